/**
 * Policy options and windows at their edges, through the public `Breaker` (mutation testing of
 * `lib/core/policies/` found these unchecked):
 * - `minimumCalls` "Integer >= 1, at most `windowSize` for count windows. @default 10" (options.ts
 *   JSDoc; README "Trip policies"): with a window smaller than 10 calls the default is the window.
 * - README "Configuring many breakers": "When a layer switches `policy`, options that only other
 *   policies use are dropped from the layers below it" (and only those: shared options stay).
 * - A time window counts calls by the clock's reading, whatever its origin: a clock whose readings
 *   are negative (a monotonic source with an arbitrary origin) slides the window like any other.
 */
import { describe, expect, it } from '@jest/globals';
import { Breaker, type BreakerOptions, ManualClock } from '../../lib/core/index.js';
import { mergeBreakerOptions } from '../../lib/core/internal.js';

const down = (): Promise<never> => Promise.reject(new Error('down'));
const up = (): Promise<string> => Promise.resolve('up');

async function failTimes(breaker: Breaker, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await breaker.execute(down).catch(() => undefined);
}

describe('minimumCalls defaults to the window when the window holds fewer than 10 calls', () => {
  it.each(['count-window', 'slow-call'] as const)('%s with windowSize 5', async (policy) => {
    const options: BreakerOptions =
      policy === 'slow-call'
        ? { name: 'small', policy, windowSize: 5, slowCallDuration: 1_000 }
        : { name: 'small', policy, windowSize: 5 };
    const breaker = new Breaker(options);
    await failTimes(breaker, 4);
    expect(breaker.state).toBe('CLOSED');
    await failTimes(breaker, 1);
    // 5 failures in a full window of 5: the rate is 100%, and the window holds minimumCalls.
    expect(breaker.state).toBe('OPEN');
    breaker.dispose();
  });

  it('an explicit minimumCalls above the window is refused, naming both', () => {
    expect(
      () => new Breaker({ name: 'small', policy: 'count-window', windowSize: 5, minimumCalls: 6 }),
    ).toThrow(/"small".*"minimumCalls".*windowSize \(5\).*received 6/);
  });
});

describe('switching policy in a later layer', () => {
  it('keeps the options the new policy shares with the old one', () => {
    const base = { policy: 'count-window', windowSize: 20, minimumCalls: 4 } as const;
    expect(mergeBreakerOptions(base, { policy: 'slow-call', slowCallDuration: 50 })).toEqual({
      policy: 'slow-call',
      windowSize: 20,
      minimumCalls: 4,
      slowCallDuration: 50,
    });
    expect(mergeBreakerOptions(base, { policy: 'time-window' })).toEqual({
      policy: 'time-window',
      minimumCalls: 4,
    });
  });

  it('drops what only the old policy used, so the result builds a breaker', () => {
    const merged = mergeBreakerOptions(
      { policy: 'slow-call', slowCallDuration: 50, slowCallRateThreshold: 0.2, windowSize: 20 },
      { policy: 'time-window', windowDuration: 5_000 },
    );
    expect(merged).toEqual({ policy: 'time-window', windowDuration: 5_000 });
    expect(() => new Breaker({ name: 'merged', ...merged })).not.toThrow();
  });
});

describe('a time window on a clock that reads negative times', () => {
  it('slides: a failure leaves the window once its bucket is a window old', async () => {
    // 1 s in 10 buckets of 100 ms; span = floor(t / 100).
    const clock = new ManualClock(-4_830); // span -49
    const breaker = new Breaker({
      name: 'negative',
      clock,
      policy: 'time-window',
      windowDuration: 1_000,
      windowBuckets: 10,
      minimumCalls: 2,
      failureRateThreshold: 0.5,
    });
    await failTimes(breaker, 1);
    clock.set(-4_530); // span -46
    await breaker.execute(up);
    expect(breaker.stats()).toMatchObject({ windowCalls: 2, failureRate: 0.5 });
    expect(breaker.state).toBe('OPEN');
    breaker.reset();

    await failTimes(breaker, 1); // span -46 again, after the reset
    clock.set(-3_530); // span -36: the window is spans -45 .. -36
    expect(breaker.stats()).toMatchObject({ windowCalls: 0, failureRate: 0 });
    await breaker.execute(up);
    expect(breaker.state).toBe('CLOSED');
    await failTimes(breaker, 1); // 1 failure in 2 calls: 0.5
    expect(breaker.state).toBe('OPEN');
    breaker.dispose();
  });
});

describe('slow calls at their edges', () => {
  // README: a call "taking `slowCallDuration` or longer" is slow; a timeout lasts `timeout` ms.
  it('a timeout exactly as long as slowCallDuration counts as slow', async () => {
    const clock = new ManualClock();
    const breaker = new Breaker({
      name: 'edge',
      clock,
      policy: 'slow-call',
      slowCallDuration: 100,
      timeout: 100,
      minimumCalls: 5,
    });
    const call = breaker.execute(() => new Promise<never>(() => undefined)).catch(() => undefined);
    clock.advance(100);
    await call;
    expect(breaker.stats()).toMatchObject({ timeouts: 1, slowCalls: 1, slowCallRate: 1 });
    breaker.dispose();
  });

  it('an empty window has rates of 0, not NaN', () => {
    const breaker = new Breaker({ name: 'empty', policy: 'slow-call', slowCallDuration: 100 });
    expect(breaker.stats()).toMatchObject({ windowCalls: 0, failureRate: 0, slowCallRate: 0 });
    breaker.dispose();
  });
});
