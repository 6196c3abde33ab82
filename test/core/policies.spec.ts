import { describe, expect, it } from '@jest/globals';
import { Breaker, ManualClock } from '../../lib/core/index.js';
import { ConsecutiveFailuresPolicy } from '../../lib/core/policies/consecutive-failures.policy.js';
import { CountWindowPolicy } from '../../lib/core/policies/count-window.policy.js';
import { SlowCallPolicy } from '../../lib/core/policies/slow-call.policy.js';
import { TimeWindowPolicy } from '../../lib/core/policies/time-window.policy.js';
import { Boom, outcome } from './helpers/async.js';

describe('ConsecutiveFailuresPolicy', () => {
  it('trips on the threshold-th failure in a row; a success resets the streak', () => {
    const p = new ConsecutiveFailuresPolicy(3);
    expect(p.failure()).toBeUndefined();
    expect(p.failure()).toBeUndefined();
    expect(p.success()).toBeUndefined();
    expect(p.failure()).toBeUndefined();
    expect(p.failure()).toBeUndefined();
    expect(p.failure()).toBe('consecutive-failures');
    expect(p.view()).toEqual({ calls: 6, failures: 5, slowCalls: 0 });
    p.reset();
    expect(p.view()).toEqual({ calls: 0, failures: 0, slowCalls: 0 });
  });
});

describe('CountWindowPolicy', () => {
  it('does not trip before minimumCalls, then trips when the rate reaches the threshold, on a success too', () => {
    const p = new CountWindowPolicy(10, 4, 0.5);
    expect(p.failure()).toBeUndefined();
    expect(p.failure()).toBeUndefined();
    expect(p.failure()).toBeUndefined();
    // 4 calls, 3 failures: 75% >= 50%. The rate is evaluated after every call (resilience4j).
    expect(p.success()).toBe('failure-rate');
  });

  it('a rate exactly at the threshold trips, whatever floating point makes of threshold * calls', () => {
    // 0.28 * 25 === 7.000000000000001: a multiplication would miss 7 failures in 25 calls.
    const p = new CountWindowPolicy(25, 25, 0.28);
    const t = new TimeWindowPolicy(1_000, 10, 25, 0.28);
    const s = new SlowCallPolicy(25, 25, 0.28, 1_000, 1);
    for (let i = 0; i < 18; i++) {
      p.success();
      t.success(0);
      s.success(0, 1);
    }
    for (let i = 0; i < 6; i++) {
      p.failure();
      t.failure(0);
      s.failure(0, 1);
    }
    expect(p.failure()).toBe('failure-rate');
    expect(t.failure(0)).toBe('failure-rate');
    expect(s.failure(0, 1)).toBe('failure-rate');
  });

  it('counts only the last windowSize calls: old failures slide out', () => {
    const p = new CountWindowPolicy(4, 4, 0.75);
    p.failure();
    p.failure();
    p.success();
    p.success();
    expect(p.view()).toEqual({ calls: 4, failures: 2, slowCalls: 0 });
    p.success();
    p.success();
    expect(p.view()).toEqual({ calls: 4, failures: 0, slowCalls: 0 });
    p.failure();
    p.failure();
    expect(p.failure()).toBe('failure-rate');
  });

  it('matches a brute-force recount over a long random sequence', () => {
    const size = 17;
    const p = new CountWindowPolicy(size, 1, 1);
    const history: number[] = [];
    let seed = 7;
    for (let i = 0; i < 2_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const failed = seed % 3 === 0;
      if (failed) p.failure();
      else p.success();
      history.push(failed ? 1 : 0);
      const window = history.slice(-size);
      expect(p.view()).toEqual({
        calls: window.length,
        failures: window.reduce((a, b) => a + b, 0),
        slowCalls: 0,
      });
    }
  });
});

describe('TimeWindowPolicy', () => {
  it('counts only calls inside the window, sliding one bucket at a time', () => {
    const p = new TimeWindowPolicy(1_000, 10, 1, 1);
    p.failure(0);
    p.failure(150);
    p.success(950);
    expect(p.view(999)).toEqual({ calls: 3, failures: 2, slowCalls: 0 });
    // At t = 1000 the bucket [0, 100) leaves the window.
    expect(p.view(1_000)).toEqual({ calls: 2, failures: 1, slowCalls: 0 });
    // At t = 1100 the bucket [100, 200) leaves too, taking the failure at 150 with it.
    expect(p.view(1_099)).toEqual({ calls: 2, failures: 1, slowCalls: 0 });
    expect(p.view(1_100)).toEqual({ calls: 1, failures: 0, slowCalls: 0 });
    expect(p.view(1_899)).toEqual({ calls: 1, failures: 0, slowCalls: 0 });
    expect(p.view(1_900)).toEqual({ calls: 0, failures: 0, slowCalls: 0 });
    // After a long silence everything has expired.
    expect(p.view(1e9)).toEqual({ calls: 0, failures: 0, slowCalls: 0 });
  });

  it('trips on the failure rate once minimumCalls are in the window', () => {
    const p = new TimeWindowPolicy(10_000, 10, 4, 0.5);
    expect(p.failure(0)).toBeUndefined();
    expect(p.success(10)).toBeUndefined();
    expect(p.failure(20)).toBeUndefined();
    expect(p.failure(30)).toBe('failure-rate');
  });

  it('does not trip on failures that have left the window', () => {
    const p = new TimeWindowPolicy(1_000, 10, 3, 1);
    p.failure(0);
    p.failure(10);
    expect(p.failure(2_000)).toBeUndefined();
    expect(p.view(2_000).calls).toBe(1);
  });

  it('matches a brute-force recount at bucket granularity over a random timeline', () => {
    const duration = 1_000;
    const buckets = 8;
    const span = duration / buckets;
    const p = new TimeWindowPolicy(duration, buckets, 1, 1);
    const events: Array<[number, number]> = [];
    let t = 0;
    let seed = 11;
    for (let i = 0; i < 3_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      t += seed % 97;
      if (seed % 500 === 0) t += 5_000;
      const failed = seed % 4 === 0 ? 1 : 0;
      if (failed) p.failure(t);
      else p.success(t);
      events.push([t, failed]);
      const head = Math.floor(t / span);
      const inside = events.filter(([at]) => Math.floor(at / span) > head - buckets);
      expect(p.view(t)).toEqual({
        calls: inside.length,
        failures: inside.reduce((a, [, f]) => a + f, 0),
        slowCalls: 0,
      });
    }
  });

  it('a clock stepping back counts the call in the newest bucket instead of losing it', () => {
    const p = new TimeWindowPolicy(1_000, 10, 1, 1);
    p.success(5_000);
    p.failure(4_000);
    expect(p.view(5_000)).toEqual({ calls: 2, failures: 1, slowCalls: 0 });
  });
});

describe('SlowCallPolicy', () => {
  it('trips on the slow-call rate; a slow success counts as slow', () => {
    const p = new SlowCallPolicy(10, 4, 1, 100, 0.5);
    expect(p.success(0, 10)).toBeUndefined();
    expect(p.success(0, 150)).toBeUndefined();
    expect(p.success(0, 20)).toBeUndefined();
    expect(p.success(0, 100)).toBe('slow-call-rate');
    expect(p.view()).toEqual({ calls: 4, failures: 0, slowCalls: 2 });
  });

  it('also trips on the failure rate', () => {
    const p = new SlowCallPolicy(10, 2, 0.5, 1_000, 1);
    expect(p.success(0, 1)).toBeUndefined();
    expect(p.failure(0, 1)).toBe('failure-rate');
  });

  it('slides slow and failed calls out of the window', () => {
    const p = new SlowCallPolicy(2, 1, 1, 100, 1);
    p.failure(0, 500);
    p.success(0, 1);
    p.success(0, 1);
    expect(p.view()).toEqual({ calls: 2, failures: 0, slowCalls: 0 });
  });

  it('drives a breaker: a dependency that answers but ever more slowly opens the circuit', async () => {
    const clock = new ManualClock();
    const b = new Breaker({
      name: 'slow',
      clock,
      policy: 'slow-call',
      slowCallDuration: 200,
      slowCallRateThreshold: 0.5,
      windowSize: 10,
      minimumCalls: 4,
    });
    const call = (ms: number) =>
      b.execute(async () => {
        clock.advance(ms);
        return ms;
      });
    await call(10);
    await call(10);
    await call(300);
    expect(b.state).toBe('CLOSED');
    await call(250);
    expect(b.state).toBe('OPEN');
    expect(b.stats()).toMatchObject({ slowCalls: 2, slowCallRate: 0.5, failures: 0 });
  });
});

describe('every policy resets when the circuit closes', () => {
  it.each([
    ['count-window', { policy: 'count-window' as const, windowSize: 10, minimumCalls: 4 }],
    ['time-window', { policy: 'time-window' as const, windowDuration: 60_000, minimumCalls: 4 }],
  ])('%s', async (_name, options) => {
    const clock = new ManualClock();
    const b = new Breaker({ name: 'p', clock, openDuration: 100, ...options });
    for (let i = 0; i < 3; i++) await b.execute(async () => 1);
    for (let i = 0; i < 4; i++) await outcome(b.execute(() => Promise.reject(new Boom())));
    expect(b.state).toBe('OPEN');
    clock.advance(100);
    await b.execute(async () => 1);
    expect(b.state).toBe('CLOSED');
    expect(b.stats().windowCalls).toBe(0);
  });
});

describe('SlowCallPolicy: failures are timed too', () => {
  it('a failure lasting slowCallDuration or longer is a slow call', () => {
    // README: "share of calls taking `slowCallDuration` or longer"; failures are calls.
    const p = new SlowCallPolicy(4, 4, 1, 100, 0.5);
    expect(p.success(0, 1)).toBeUndefined();
    expect(p.success(0, 1)).toBeUndefined();
    expect(p.failure(0, 100)).toBeUndefined();
    expect(p.failure(0, 100)).toBe('slow-call-rate');
    expect(p.view()).toEqual({ calls: 4, failures: 2, slowCalls: 2 });
  });
});

describe('SlowCallPolicy: a slow-call rate below its threshold does not trip', () => {
  it('1 slow call in 10 (10%) with a 50% threshold stays closed; 5 in 10 trips', () => {
    const p = new SlowCallPolicy(10, 10, 0.5, 100, 0.5);
    for (let i = 0; i < 9; i++) expect(p.success(0, 1)).toBeUndefined();
    expect(p.success(0, 100)).toBeUndefined();
    expect(p.view().slowCalls).toBe(1);
    for (let i = 0; i < 3; i++) expect(p.success(0, 100)).toBeUndefined();
    expect(p.success(0, 100)).toBe('slow-call-rate'); // 5 of the last 10
  });
});
