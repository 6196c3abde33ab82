/**
 * Hostile input to the engine. For each case: the caller gets a clear answer, the breaker's state
 * and counters are intact (they add up, the breaker still trips and recovers), nothing is lost.
 */
import { describe, expect, it } from '@jest/globals';
import {
  Breaker,
  type BreakerOptions,
  BreakerDisposedError,
  type BreakerStats,
  CallTimeoutError,
  ManualClock,
} from '../../lib/core/index.js';
import { Boom, flush, outcome } from './helpers/async.js';

function make(options: Partial<BreakerOptions> = {}) {
  const clock = new ManualClock();
  const reported: Array<[string, unknown]> = [];
  const b = new Breaker({
    name: 'hostile',
    clock,
    failureThreshold: 3,
    openDuration: 100,
    onCallbackError: (error, source) => reported.push([source, error]),
    ...options,
  });
  return { b, clock, reported };
}

function addsUp(s: BreakerStats): boolean {
  return s.calls === s.successes + s.failures + s.timeouts + s.ignored + s.rejections;
}

/** The breaker still does its job: trips on failures, recovers on a probe. */
async function stillWorks(b: Breaker, clock: ManualClock): Promise<void> {
  b.reset();
  const threshold =
    b.options.circuit.policy.kind === 'consecutive' ? b.options.circuit.policy.failureThreshold : 0;
  for (let i = 0; i < threshold; i++) await outcome(b.execute(() => Promise.reject(new Boom())));
  expect(b.state).toBe('OPEN');
  clock.advance(100);
  expect(await b.execute(async () => 'ok')).toBe('ok');
  expect(b.state).toBe('CLOSED');
  expect(addsUp(b.stats())).toBe(true);
}

describe('hostile functions', () => {
  it('throws synchronously: delivered as a rejection, counted once as a failure', async () => {
    const { b, clock } = make();
    const r = await outcome(
      b.execute(() => {
        throw new Boom('sync');
      }),
    );
    expect(r).toEqual({ ok: false, error: new Boom('sync') });
    expect(b.stats()).toMatchObject({ calls: 1, failures: 1 });
    await stillWorks(b, clock);
  });

  it('returns a non-promise value, or undefined: a success with that value', async () => {
    const { b, clock } = make();
    expect(await b.execute(() => 5)).toBe(5);
    expect(await b.execute(() => undefined)).toBeUndefined();
    expect(await b.execute(() => null)).toBeNull();
    expect(b.stats()).toMatchObject({ calls: 3, successes: 3 });
    await stillWorks(b, clock);
  });

  it('returns a thenable that never settles: stays in flight, and with a timeout ends as one timeout', async () => {
    const never = { then: () => undefined } as unknown as Promise<never>;
    const plain = make();
    void plain.b.execute(() => never);
    await flush();
    expect(plain.b.stats()).toMatchObject({ inFlight: 1, calls: 0 });

    const timed = make({ timeout: 50 });
    const r = outcome(timed.b.execute(() => never));
    timed.clock.advance(50);
    const settled = await r;
    expect(!settled.ok && settled.error).toBeInstanceOf(CallTimeoutError);
    expect(timed.b.stats()).toMatchObject({ inFlight: 0, calls: 1, timeouts: 1 });
    await stillWorks(timed.b, timed.clock);
  });

  it('returns a thenable whose then throws: a failure, not a crash', async () => {
    const { b, clock } = make();
    const evil = {
      then() {
        throw new Boom('then exploded');
      },
    } as unknown as Promise<number>;
    const r = await outcome(b.execute(() => evil));
    expect(!r.ok && (r.error as Error).message).toBe('then exploded');
    expect(b.stats()).toMatchObject({ failures: 1 });
    await stillWorks(b, clock);
  });

  it('rejects with a string, null, undefined, a number or a frozen object: passed on untouched, counted as failures', async () => {
    const { b, clock } = make({ failureThreshold: 100 });
    const frozen = Object.freeze({ code: 'EFROZEN', nested: Object.freeze({ deep: true }) });
    const values = ['a string', null, undefined, 42, frozen];
    for (const value of values) {
      const r = await outcome(b.execute(() => Promise.reject(value)));
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error).toBe(value);
    }
    expect(b.stats()).toMatchObject({ failures: 5 });
    await stillWorks(b, clock);
  });

  it('is not a function: a TypeError naming the breaker, nothing counted', async () => {
    const { b, clock } = make();
    for (const value of [undefined, null, 'fn', {}, 1]) {
      await expect(b.execute(value as never)).rejects.toThrow(
        /Circuit breaker "hostile": execute expects a function/,
      );
      expect(() => b.executeSync(value as never)).toThrow(TypeError);
    }
    expect(b.stats().calls).toBe(0);
    await stillWorks(b, clock);
  });
});

describe('hostile callbacks', () => {
  it('listeners that throw on every event: reported, the breaker and callers unaffected', async () => {
    const { b, clock, reported } = make();
    const boom = () => {
      throw new Boom('listener');
    };
    for (const subscribe of [
      b.onStateChange,
      b.onOpen,
      b.onClose,
      b.onHalfOpen,
      b.onSuccess,
      b.onFailure,
      b.onTimeout,
      b.onRejection,
      b.onIgnored,
    ]) {
      subscribe.call(b, boom);
    }
    await stillWorks(b, clock);
    expect(reported.length).toBeGreaterThan(5);
    expect(reported.every(([source]) => source === 'listener')).toBe(true);
  });

  it('a throwing onCallbackError is contained too', async () => {
    const { b, clock } = make({
      onCallbackError: () => {
        throw new Error('the reporter itself fails');
      },
      isFailure: () => {
        throw new Error('classifier fails');
      },
    });
    b.onOpen(() => {
      throw new Error('listener fails');
    });
    await stillWorks(b, clock);
  });

  it('a fallback that throws or rejects: the caller gets the fallback error, counters add up', async () => {
    const { b, clock } = make({ failureThreshold: 1 });
    await outcome(b.execute(() => Promise.reject(new Boom())));
    const sync = await outcome(
      b.execute(async () => 1, {
        fallback: () => {
          throw new Error('fallback threw');
        },
      }),
    );
    const async = await outcome(
      b.execute(async () => 1, { fallback: () => Promise.reject(new Error('fallback rejected')) }),
    );
    expect(!sync.ok && (sync.error as Error).message).toBe('fallback threw');
    expect(!async.ok && (async.error as Error).message).toBe('fallback rejected');
    expect(b.stats()).toMatchObject({ rejections: 2, fallbacks: 2 });
    clock.advance(100);
    await b.execute(async () => 1);
    expect(addsUp(b.stats())).toBe(true);
  });

  it('a backoff function or random source that returns garbage: the open period stays sane', async () => {
    for (const options of [
      { backoff: () => Number.NaN },
      { backoff: () => -5 },
      { backoff: () => 'soon' as unknown as number },
      { backoff: { jitter: 0.5 }, random: () => Number.NaN },
    ] as Array<Partial<BreakerOptions>>) {
      const { b, clock } = make({ failureThreshold: 1, ...options });
      await outcome(b.execute(() => Promise.reject(new Boom())));
      expect(b.stats().retryAfter).toBe(100);
      clock.advance(100);
      expect(b.state).toBe('HALF_OPEN');
    }
  });
});

describe('hostile lifecycle and time', () => {
  it('execute, executeSync, acquire and manual transitions after dispose: a clear BreakerDisposedError', async () => {
    const { b } = make();
    b.dispose();
    await expect(b.execute(async () => 1)).rejects.toThrow(BreakerDisposedError);
    await expect(b.execute(async () => 1)).rejects.toThrow(
      'Circuit breaker "hostile" has been disposed',
    );
    expect(() => b.executeSync(() => 1)).toThrow(BreakerDisposedError);
    expect(() => b.acquire()).toThrow(BreakerDisposedError);
    expect(() => b.isolate()).toThrow(BreakerDisposedError);
    expect(() => b.disable()).toThrow(BreakerDisposedError);
    expect(() => b.reset()).toThrow(BreakerDisposedError);
    expect(b.stats().calls).toBe(0);
    expect(() => b.dispose()).not.toThrow();
  });

  it('the clock going backwards by any amount, or returning NaN later: nothing reopens early, nothing stalls forever', async () => {
    let now = 1_000_000;
    const clock = {
      now: () => now,
      setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
      clearTimeout: (h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>),
    };
    const b = new Breaker({
      name: 'time-travel',
      clock,
      policy: 'time-window',
      windowDuration: 1_000,
      minimumCalls: 2,
      openDuration: 100,
    });
    await outcome(b.execute(() => Promise.reject(new Boom())));
    now = 0;
    await outcome(b.execute(() => Promise.reject(new Boom())));
    expect(b.state).toBe('OPEN');
    now = Number.NaN;
    expect(b.state).toBe('OPEN');
    now = 1_000_050;
    expect(b.state).toBe('OPEN');
    now = 1_000_100;
    expect(b.state).toBe('HALF_OPEN');
    expect(await b.execute(async () => 'recovered')).toBe('recovered');
    expect(addsUp(b.stats())).toBe(true);
    b.dispose();
  });
});
