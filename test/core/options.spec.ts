import { describe, expect, it } from '@jest/globals';
import {
  Breaker,
  type BreakerOptions,
  BreakerOptionsError,
  DEFAULTS,
  ManualClock,
  isBreakerOptionsError,
  mergeBreakerOptions,
  validateOptionValues,
} from '../../lib/core/internal.js';

function construct(options: Record<string, unknown>): BreakerOptionsError {
  try {
    new Breaker({ name: 'payments', ...options } as BreakerOptions);
  } catch (error) {
    expect(isBreakerOptionsError(error)).toBe(true);
    return error as BreakerOptionsError;
  }
  throw new Error(`expected ${JSON.stringify(options)} to be rejected`);
}

/** [option, value, extra options, what the message must say was expected, what was received] */
type Case = [string, unknown, Record<string, unknown>, string, string];

const cases: Case[] = [
  ['failureThreshold', -1, {}, 'an integer >= 1', '-1 (number)'],
  ['failureThreshold', 0, {}, 'an integer >= 1', '0 (number)'],
  ['failureThreshold', 2.5, {}, 'an integer >= 1', '2.5 (number)'],
  ['failureThreshold', Number.NaN, {}, 'an integer >= 1', 'NaN (number)'],
  ['failureThreshold', Infinity, {}, 'an integer >= 1', 'Infinity (number)'],
  ['failureThreshold', '5', {}, 'an integer >= 1', '"5" (string)'],
  ['failureThreshold', null, {}, 'an integer >= 1', 'null'],
  ['openDuration', 0, {}, 'a finite number of milliseconds > 0', '0 (number)'],
  ['openDuration', -100, {}, 'a finite number of milliseconds > 0', '-100 (number)'],
  ['openDuration', Infinity, {}, 'a finite number of milliseconds > 0', 'Infinity (number)'],
  ['openDuration', Number.NaN, {}, 'a finite number of milliseconds > 0', 'NaN (number)'],
  ['openDuration', '30s', {}, 'a finite number of milliseconds > 0', '"30s" (string)'],
  ['timeout', 0, {}, 'a finite number of milliseconds > 0 and <= 2147483647', '0 (number)'],
  ['timeout', 2 ** 31, {}, '<= 2147483647', '2147483648 (number)'],
  ['timeout', true, {}, 'a finite number of milliseconds', 'true (boolean)'],
  ['halfOpenMaxCalls', 0, {}, 'an integer >= 1', '0 (number)'],
  ['halfOpenWaitTimeout', -1, {}, 'milliseconds >= 0', '-1 (number)'],
  ['probeExpiry', 0, {}, 'milliseconds > 0', '0 (number)'],
  ['maxConcurrent', 0, {}, 'an integer >= 1', '0 (number)'],
  ['maxQueue', -1, { maxConcurrent: 2 }, 'an integer >= 0', '-1 (number)'],
  ['maxQueue', 3, {}, 'unset unless maxConcurrent is set', '3 (number)'],
  [
    'policy',
    'rolling',
    {},
    'one of "consecutive", "count-window", "time-window", "slow-call"',
    '"rolling" (string)',
  ],
  ['windowSize', 0, { policy: 'count-window' }, 'an integer between 1 and 1000000', '0 (number)'],
  // Above 2^32 a window could not even be allocated; every call would fail inside the breaker.
  [
    'windowSize',
    2 ** 32 + 1,
    { policy: 'count-window' },
    'an integer between 1 and 1000000',
    '4294967297 (number)',
  ],
  [
    'windowBuckets',
    2 ** 33,
    { policy: 'time-window', windowDuration: 2 ** 40 },
    'an integer between 1 and 100000',
    '8589934592 (number)',
  ],
  [
    'minimumCalls',
    200,
    { policy: 'count-window', windowSize: 100 },
    'between 1 and windowSize (100)',
    '200 (number)',
  ],
  ['failureRateThreshold', 50, { policy: 'count-window' }, 'use 0.5 for 50%', '50 (number)'],
  ['failureRateThreshold', 0, { policy: 'count-window' }, 'a fraction in (0, 1]', '0 (number)'],
  ['failureRateThreshold', 1.5, { policy: 'time-window' }, 'a fraction in (0, 1]', '1.5 (number)'],
  ['windowDuration', -5, { policy: 'time-window' }, 'milliseconds > 0', '-5 (number)'],
  [
    'windowBuckets',
    20,
    { policy: 'time-window', windowDuration: 10 },
    'each bucket spans at least 1 ms',
    '20 (number)',
  ],
  [
    'slowCallDuration',
    undefined,
    { policy: 'slow-call' },
    'required by policy "slow-call"',
    'undefined',
  ],
  [
    'slowCallRateThreshold',
    2,
    { policy: 'slow-call', slowCallDuration: 100 },
    'a fraction in (0, 1]',
    '2 (number)',
  ],
  [
    'windowSize',
    100,
    {},
    'unset while policy is "consecutive" (set policy: "count-window" to use it)',
    '100 (number)',
  ],
  [
    'failureThreshold',
    3,
    { policy: 'time-window' },
    'it applies to policy "consecutive"',
    '3 (number)',
  ],
  [
    'backoff',
    'exponential',
    {},
    'false, an object { multiplier, maxDuration, jitter } or a function',
    '"exponential" (string)',
  ],
  ['backoff.multiplier', 0.5, {}, 'a finite number >= 1', '0.5 (number)'],
  ['backoff.maxDuration', 10, {}, 'milliseconds >= openDuration (30000)', '10 (number)'],
  ['backoff.jitter', 2, {}, 'a fraction in [0, 1]', '2 (number)'],
  ['backoff.maxDuraton', 10, {}, 'did you mean "maxDuration"?', '10 (number)'],
  ['isFailure', 'yes', {}, 'a function', '"yes" (string)'],
  ['ignore', 'TypeError', {}, 'an array of error classes or a predicate', '"TypeError" (string)'],
  ['ignore[1]', 'x', {}, 'an error class', '"x" (string)'],
  ['fallbackOnFailure', 'true', {}, 'a boolean', '"true" (string)'],
  ['random', 0.5, {}, 'a function', '0.5 (number)'],
  ['clock', Date, {}, 'an object with now(), setTimeout() and clearTimeout()', 'a function "Date"'],
  ['store', {}, {}, 'a CircuitStore', '{} (object)'],
  ['onCallbackError', 1, {}, 'a function', '1 (number)'],
  ['rejectionStackTraces', 1, {}, 'a boolean', '1 (number)'],
  ['initialState', 'OPEN', {}, 'a snapshot object', '"OPEN" (string)'],
  [
    'initialState.state',
    'AJAR',
    {},
    'one of CLOSED, OPEN, HALF_OPEN, FORCED_OPEN, DISABLED',
    '"AJAR" (string)',
  ],
  ['initialState.openUntil', undefined, {}, 'a finite number', 'undefined'],
];

function valueFor(option: string, value: unknown): Record<string, unknown> {
  if (option.startsWith('backoff.')) return { backoff: { [option.slice(8)]: value } };
  if (option === 'ignore[1]') return { ignore: [TypeError, value] };
  if (option === 'initialState.state') {
    return { initialState: { state: value, generation: 0, since: 0, failedProbes: 0 } };
  }
  if (option === 'initialState.openUntil') {
    return {
      initialState: { state: 'OPEN', generation: 1, since: 0, openedAt: 0, failedProbes: 0 },
    };
  }
  return { [option]: value };
}

describe('option validation', () => {
  it.each(cases)(
    '%s = %p is rejected at construction, naming the breaker, the option, what was expected and received',
    (option, value, extra, expected, received) => {
      const error = construct({ ...extra, ...valueFor(option, value) });
      expect(error).toBeInstanceOf(BreakerOptionsError);
      expect(error.breakerName).toBe('payments');
      expect(error.option).toBe(option);
      expect(error.expected).toContain(expected);
      expect(error.received).toBe(received);
      expect(error.message).toContain(`Circuit breaker "payments": option "${option}" must be `);
      expect(error.message).toContain(`received ${received}`);
    },
  );

  /** Rules relating two options: only the merged options can break them. */
  const relational = (expected: string) =>
    /unset unless|between 1 and windowSize|each bucket|required by policy|unset while policy|it applies to policy|>= openDuration/.test(
      expected,
    );

  it.each(cases.filter((c) => !relational(c[3])))(
    'a layer checked on its own (validateOptionValues) rejects %s = %p the same way',
    (option, value, extra, expected, received) => {
      let caught: unknown;
      try {
        validateOptionValues('defaults', { ...extra, ...valueFor(option, value) });
      } catch (error) {
        caught = error;
      }
      expect(isBreakerOptionsError(caught)).toBe(true);
      const error = caught as BreakerOptionsError;
      expect([error.breakerName, error.option, error.received]).toEqual([
        'defaults',
        option,
        received,
      ]);
      expect(error.expected).toContain(expected);
    },
  );

  it('a layer checked on its own accepts what only another layer can complete or contradict', () => {
    for (const layer of [
      { windowSize: 100 }, // the breaker may choose a window policy
      { maxQueue: 3 }, // maxConcurrent may come from the breaker
      { policy: 'slow-call' as const }, // slowCallDuration may come later
      { minimumCalls: 200 }, // windowSize may be larger in the breaker
      { backoff: { maxDuration: 1_000 } }, // openDuration may be shorter in the breaker
      { failureThreshold: 3, policy: 'time-window' as const },
      {},
    ]) {
      expect(() => validateOptionValues('defaults', layer)).not.toThrow();
    }
    expect(() => validateOptionValues('defaults', { opneDuration: 1 } as never)).toThrow(
      'did you mean "openDuration"?',
    );
  });

  it('an unknown option is rejected with the closest known name suggested', () => {
    const error = construct({ failureTreshold: 5 });
    expect(error.option).toBe('failureTreshold');
    expect(error.message).toContain('did you mean "failureThreshold"?');
    const far = construct({ colour: 'blue' });
    expect(far.message).not.toContain('did you mean');
  });

  it('a missing or empty name is rejected', () => {
    for (const name of [undefined, '', '   ', 42]) {
      let caught: unknown;
      try {
        new Breaker({ name } as unknown as BreakerOptions);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(BreakerOptionsError);
      expect((caught as BreakerOptionsError).option).toBe('name');
      expect((caught as BreakerOptionsError).breakerName).toBe('<unnamed>');
    }
    expect(() => new Breaker(null as unknown as BreakerOptions)).toThrow(BreakerOptionsError);
  });

  it('a clock that returns something other than a finite number is rejected at construction', () => {
    const clock = { now: () => Number.NaN, setTimeout, clearTimeout };
    const error = construct({ clock });
    expect(error.option).toBe('clock');
    expect(error.received).toContain('NaN');
  });

  it('undefined values count as unset, and the defaults are the documented ones', () => {
    const b = new Breaker({ name: 'd', timeout: undefined, failureThreshold: undefined });
    expect(b.options.circuit).toEqual({
      policy: { kind: 'consecutive', failureThreshold: DEFAULTS.failureThreshold },
      openDuration: 30_000,
      backoff: undefined,
      halfOpenMaxCalls: 1,
      probeExpiry: 60_000,
    });
    expect(b.options.timeout).toBe(0);
    expect(b.options.maxConcurrent).toBe(0);
  });

  it('accepts every policy with its own options', () => {
    const clock = new ManualClock();
    expect(
      () =>
        new Breaker({
          name: 'a',
          clock,
          policy: 'count-window',
          windowSize: 20,
          minimumCalls: 20,
          failureRateThreshold: 1,
        }),
    ).not.toThrow();
    expect(
      () =>
        new Breaker({
          name: 'b',
          clock,
          policy: 'time-window',
          windowDuration: 10_000,
          windowBuckets: 10_000,
        }),
    ).not.toThrow();
    expect(
      () =>
        new Breaker({
          name: 'c',
          clock,
          policy: 'slow-call',
          slowCallDuration: 500,
          slowCallRateThreshold: 0.8,
          failureRateThreshold: 0.5,
          windowSize: 10,
        }),
    ).not.toThrow();
  });
});

describe('mergeBreakerOptions', () => {
  it('later layers win key by key; undefined does not override', () => {
    expect(
      mergeBreakerOptions(
        { failureThreshold: 3, timeout: 100 },
        { timeout: 200, openDuration: undefined },
      ),
    ).toEqual({ failureThreshold: 3, timeout: 200 });
  });

  it("switching policy drops the earlier layers' options that only the other policies use", () => {
    const merged = mergeBreakerOptions(
      { failureThreshold: 3, timeout: 100 },
      { policy: 'count-window', windowSize: 50 },
    );
    expect(merged).toEqual({ policy: 'count-window', windowSize: 50, timeout: 100 });
    expect(() => new Breaker({ name: 'm', ...merged })).not.toThrow();
    const back = mergeBreakerOptions(merged, { policy: 'consecutive' });
    expect(back).toEqual({ policy: 'consecutive', timeout: 100 });
  });
});
