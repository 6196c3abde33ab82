/**
 * The guarantees of DESIGN.md's "Concurrency" section, each shown by a test that fails on the naive
 * implementation (a shared counter checked and acted on without generations, rejections counted
 * as calls, timeouts counted on both sides of a race). Time is a ManualClock: nothing sleeps.
 */
import { describe, expect, it } from '@jest/globals';
import {
  Breaker,
  type BreakerOptions,
  CallTimeoutError,
  ManualClock,
  type StateChangeEvent,
  isCallTimeoutError,
  isCircuitOpenError,
} from '../../lib/core/index.js';
import { Boom, Ignorable, deferred, flush, outcome, seededRandom } from './helpers/async.js';

function breaker(options: Partial<BreakerOptions> = {}, clock = new ManualClock()) {
  const b = new Breaker({ name: 'dep', clock, openDuration: 1_000, ...options });
  const transitions: StateChangeEvent[] = [];
  b.onStateChange((e) => transitions.push(e));
  return { b, clock, transitions };
}

async function trip(b: Breaker, failures: number): Promise<void> {
  for (let i = 0; i < failures; i++) {
    await outcome(b.execute(() => Promise.reject(new Boom())));
  }
}

describe('1. a transition happens exactly once', () => {
  it('1,000 concurrent failing calls open the circuit once and emit one open event', async () => {
    const { b, transitions } = breaker({ failureThreshold: 5 });
    const opens: StateChangeEvent[] = [];
    b.onOpen((e) => opens.push(e));
    const calls = Array.from({ length: 1_000 }, () => deferred<number>());
    const results = calls.map((d) => outcome(b.execute(() => d.promise)));
    // All 1,000 were admitted while CLOSED; now they all fail in the same tick.
    for (const d of calls) d.reject(new Boom());
    await Promise.all(results);

    expect(opens).toHaveLength(1);
    expect(transitions.map((t) => `${t.from}->${t.to}`)).toEqual(['CLOSED->OPEN']);
    expect(b.stats()).toMatchObject({ failures: 1_000, opens: 1, state: 'OPEN', generation: 1 });
  });

  it('synchronous throws from 1,000 callers in one tick also open it once', async () => {
    const { b, transitions } = breaker({ failureThreshold: 3 });
    const results = Array.from({ length: 1_000 }, () =>
      outcome(
        b.execute(() => {
          throw new Boom();
        }),
      ),
    );
    await Promise.all(results);
    expect(transitions).toHaveLength(1);
    // Only the first three reached the dependency; the rest found the circuit open.
    expect(b.stats()).toMatchObject({ failures: 3, rejections: 997 });
  });

  it('with a rate policy, the threshold crossing by many concurrent failures opens it once', async () => {
    const { b, transitions } = breaker({
      policy: 'count-window',
      windowSize: 50,
      minimumCalls: 20,
      failureRateThreshold: 0.5,
    });
    const calls = Array.from({ length: 500 }, () => deferred<number>());
    const results = calls.map((d) => outcome(b.execute(() => d.promise)));
    calls.forEach((d, i) => (i % 3 === 0 ? d.resolve(1) : d.reject(new Boom())));
    await Promise.all(results);
    expect(transitions.map((t) => t.to)).toEqual(['OPEN']);
    expect(transitions[0]!.reason).toBe('failure-rate');
  });
});

describe('2. no thundering herd in HALF_OPEN', () => {
  it.each([1, 3, 5])(
    'halfOpenMaxCalls = %i: of 1,000 concurrent callers after the open period, exactly that many reach the dependency',
    async (probes) => {
      const { b, clock } = breaker({ failureThreshold: 2, halfOpenMaxCalls: probes });
      await trip(b, 2);
      clock.advance(1_000);

      let reached = 0;
      const gate = deferred<string>();
      const results = Array.from({ length: 1_000 }, () =>
        outcome(
          b.execute(() => {
            reached++;
            return gate.promise;
          }),
        ),
      );
      await flush();
      expect(reached).toBe(probes);
      gate.resolve('ok');
      const settled = await Promise.all(results);
      const rejected = settled.filter((r) => !r.ok && isCircuitOpenError(r.error));
      expect(rejected).toHaveLength(1_000 - probes);
      expect(
        rejected.every((r) => !r.ok && (r.error as { state: string }).state === 'HALF_OPEN'),
      ).toBe(true);
      expect(b.state).toBe('CLOSED');
      expect(reached).toBe(probes);
    },
  );

  it('callers arriving while all probe slots are taken are rejected at once, not queued', async () => {
    const { b, clock } = breaker({ failureThreshold: 1 });
    await trip(b, 1);
    clock.advance(1_000);
    const probe = deferred<number>();
    const first = outcome(b.execute(() => probe.promise));
    const second = await outcome(b.execute(async () => 2));
    expect(second.ok).toBe(false);
    expect(!second.ok && isCircuitOpenError(second.error)).toBe(true);
    probe.resolve(1);
    expect(await first).toEqual({ ok: true, value: 1 });
  });

  it('with halfOpenWaitTimeout, waiting callers proceed once the probe closes the circuit', async () => {
    const { b, clock } = breaker({ failureThreshold: 1, halfOpenWaitTimeout: 500 });
    await trip(b, 1);
    clock.advance(1_000);
    let reached = 0;
    const probe = deferred<number>();
    const first = outcome(
      b.execute(() => {
        reached++;
        return probe.promise;
      }),
    );
    const waiting = Array.from({ length: 20 }, (_, i) =>
      outcome(
        b.execute(async () => {
          reached++;
          return i;
        }),
      ),
    );
    await flush();
    expect(reached).toBe(1);
    probe.resolve(-1);
    const results = await Promise.all([first, ...waiting]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(reached).toBe(21);
    expect(clock.pendingTimers).toBe(0);
  });

  it('with halfOpenWaitTimeout, waiting callers are rejected when the probe fails, or when the wait runs out', async () => {
    const { b, clock } = breaker({ failureThreshold: 1, halfOpenWaitTimeout: 500 });
    await trip(b, 1);
    clock.advance(1_000);
    const probe = deferred<number>();
    const first = outcome(b.execute(() => probe.promise));
    const waiter = outcome(b.execute(async () => 1));
    await flush();
    probe.reject(new Boom());
    const [, w] = await Promise.all([first, waiter]);
    expect(!w.ok && isCircuitOpenError(w.error) && w.error.state).toBe('OPEN');

    clock.advance(1_000);
    const probe2 = deferred<number>();
    const second = outcome(b.execute(() => probe2.promise));
    const timedOut = outcome(b.execute(async () => 1));
    await flush();
    clock.advance(500);
    const t = await timedOut;
    expect(!t.ok && isCircuitOpenError(t.error) && t.error.state).toBe('HALF_OPEN');
    probe2.resolve(2);
    await second;
    expect(clock.pendingTimers).toBe(0);
  });

  it('a probe that never settles cannot strand the breaker: its permit expires and the circuit re-opens', async () => {
    const { b, clock, transitions } = breaker({ failureThreshold: 1, probeExpiry: 5_000 });
    await trip(b, 1);
    clock.advance(1_000);
    const hung = outcome(b.execute(() => new Promise<never>(() => undefined)));
    void hung;
    clock.advance(4_999);
    expect(b.state).toBe('HALF_OPEN');
    clock.advance(1);
    expect(b.state).toBe('OPEN');
    expect(transitions.at(-1)).toMatchObject({ to: 'OPEN', reason: 'probe-expired' });
    clock.advance(1_000);
    // A fresh probe goes through and closes the circuit.
    expect(await b.execute(async () => 'up')).toBe('up');
    expect(b.state).toBe('CLOSED');
  });
});

describe('3. late outcomes do not act on a newer state', () => {
  it('a call admitted before the trip that fails while a probe is in flight does not re-open; the probe decides', async () => {
    const { b, clock, transitions } = breaker({ failureThreshold: 3 });
    const early = deferred<number>();
    const earlyResult = outcome(b.execute(() => early.promise));
    await trip(b, 3);
    clock.advance(1_000);
    const probe = deferred<number>();
    const probeResult = outcome(b.execute(() => probe.promise));
    await flush();
    expect(b.state).toBe('HALF_OPEN');

    early.reject(new Boom('late'));
    await earlyResult;
    expect(b.state).toBe('HALF_OPEN');

    probe.resolve(1);
    await probeResult;
    expect(b.state).toBe('CLOSED');
    expect(transitions.map((t) => t.to)).toEqual(['OPEN', 'HALF_OPEN', 'CLOSED']);
    // The late failure is still counted as a failure: counters cover every call.
    expect(b.stats().failures).toBe(4);
  });

  it('a call admitted before the trip that succeeds while HALF_OPEN does not close it', async () => {
    const { b, clock, transitions } = breaker({ failureThreshold: 3 });
    const early = deferred<number>();
    const earlyResult = outcome(b.execute(() => early.promise));
    await trip(b, 3);
    clock.advance(1_000);
    const probe = deferred<number>();
    const probeResult = outcome(b.execute(() => probe.promise));
    await flush();

    early.resolve(1);
    await earlyResult;
    expect(b.state).toBe('HALF_OPEN');

    probe.reject(new Boom());
    await probeResult;
    expect(b.state).toBe('OPEN');
    expect(transitions.map((t) => t.to)).toEqual(['OPEN', 'HALF_OPEN', 'OPEN']);
  });

  it('a late failure does not extend the open period', async () => {
    const { b, clock } = breaker({ failureThreshold: 2 });
    const early = deferred<number>();
    const earlyResult = outcome(b.execute(() => early.promise));
    await trip(b, 2);
    clock.advance(900);
    early.reject(new Boom());
    await earlyResult;
    clock.advance(100);
    expect(b.state).toBe('HALF_OPEN');
  });

  it('ten late failures from before a recovery land right after it: the circuit stays CLOSED', async () => {
    const { b, clock, transitions } = breaker({ failureThreshold: 5 });
    const late = Array.from({ length: 10 }, () => deferred<number>());
    const lateResults = late.map((d) => outcome(b.execute(() => d.promise)));
    await trip(b, 5);
    clock.advance(1_000);
    expect(await b.execute(async () => 'probe')).toBe('probe');
    expect(b.state).toBe('CLOSED');

    for (const d of late) d.reject(new Boom('late'));
    await Promise.all(lateResults);
    expect(b.state).toBe('CLOSED');
    expect(b.stats().consecutiveFailures).toBe(0);
    expect(transitions.map((t) => t.to)).toEqual(['OPEN', 'HALF_OPEN', 'CLOSED']);
  });

  it('outcomes of calls admitted before a manual reset or isolate do not count afterwards', async () => {
    const { b } = breaker({ failureThreshold: 2 });
    const before = [deferred<number>(), deferred<number>()];
    const results = before.map((d) => outcome(b.execute(() => d.promise)));
    b.reset();
    for (const d of before) d.reject(new Boom());
    await Promise.all(results);
    expect(b.state).toBe('CLOSED');
  });
});

describe('4. rejections never dilute the failure rate', () => {
  const policies: Array<[string, Partial<BreakerOptions>, number]> = [
    ['consecutive', { failureThreshold: 5 }, 5],
    ['count-window', { policy: 'count-window', windowSize: 100, minimumCalls: 10 }, 10],
    ['time-window', { policy: 'time-window', windowDuration: 10_000, minimumCalls: 10 }, 10],
  ];

  it.each(policies)(
    '%s: after an outage with 1,000 rejected calls, it re-opens after exactly the threshold of new failures',
    async (_name, options, needed) => {
      const { b, clock } = breaker(options);
      for (let i = 0; i < needed; i++) await outcome(b.execute(() => Promise.reject(new Boom())));
      expect(b.state).toBe('OPEN');
      const rejected = await Promise.all(
        Array.from({ length: 1_000 }, () => outcome(b.execute(async () => 1))),
      );
      expect(rejected.every((r) => !r.ok && isCircuitOpenError(r.error))).toBe(true);
      clock.advance(1_000);
      await b.execute(async () => 'probe');
      expect(b.state).toBe('CLOSED');

      for (let i = 1; i < needed; i++) {
        await outcome(b.execute(() => Promise.reject(new Boom())));
        expect(b.state).toBe('CLOSED');
      }
      await outcome(b.execute(() => Promise.reject(new Boom())));
      expect(b.state).toBe('OPEN');
      expect(b.stats().rejections).toBe(1_000);
    },
  );
});

describe('5. counters always add up', () => {
  it('10,000 calls at concurrency 100 with random failures, ignored errors and timeouts', async () => {
    const random = seededRandom(20261123);
    const clock = new ManualClock();
    const b = new Breaker({
      name: 'mixed',
      clock,
      timeout: 50,
      ignore: [Ignorable],
      failureThreshold: 8,
      openDuration: 200,
      halfOpenMaxCalls: 2,
    });
    interface Pending {
      d: ReturnType<typeof deferred<number>>;
      fate: number;
      /** The caller already has its answer (a timeout): settling now is a late settlement. */
      answered: boolean;
    }
    const pending: Pending[] = [];
    const tally = { calls: 0, successes: 0, failures: 0, timeouts: 0, ignored: 0, rejections: 0 };
    let reachedDependency = 0;
    let lateSettlements = 0;

    async function worker(calls: number): Promise<void> {
      for (let i = 0; i < calls; i++) {
        tally.calls++;
        let entry: Pending | undefined;
        const r = await outcome(
          b.execute(() => {
            reachedDependency++;
            entry = { d: deferred<number>(), fate: random(), answered: false };
            pending.push(entry);
            return entry.d.promise;
          }),
        );
        if (entry) entry.answered = true;
        if (r.ok) tally.successes++;
        else if (isCircuitOpenError(r.error)) tally.rejections++;
        else if (isCallTimeoutError(r.error)) tally.timeouts++;
        else if (r.error instanceof Ignorable) tally.ignored++;
        else if (r.error instanceof Boom) tally.failures++;
        else throw new Error(`unexpected outcome ${String(r.error)}`);
      }
    }

    const workers = Array.from({ length: 100 }, () => worker(100));
    let done = false;
    void Promise.all(workers).then(() => (done = true));
    while (!done) {
      await flush(1);
      // Settle a random share of the pending calls, leave some to time out, and move time on.
      for (let i = pending.length - 1; i >= 0; i--) {
        const p = pending[i]!;
        const roll = random();
        if (roll < 0.5) {
          pending.splice(i, 1);
          if (p.answered) lateSettlements++;
          if (p.fate < 0.25) p.d.reject(new Boom());
          else if (p.fate < 0.35) p.d.reject(new Ignorable());
          else p.d.resolve(1);
        }
      }
      // Calls that time out stay pending and settle later: that must not be counted again.
      clock.advance(Math.floor(random() * 40));
    }
    await Promise.all(workers);

    const s = b.stats();
    expect(tally.calls).toBe(10_000);
    expect(s.calls).toBe(10_000);
    expect(s.calls).toBe(s.successes + s.failures + s.timeouts + s.ignored + s.rejections);
    expect({
      successes: s.successes,
      failures: s.failures,
      timeouts: s.timeouts,
      ignored: s.ignored,
      rejections: s.rejections,
    }).toEqual({
      successes: tally.successes,
      failures: tally.failures,
      timeouts: tally.timeouts,
      ignored: tally.ignored,
      rejections: tally.rejections,
    });
    expect(s.successes + s.failures + s.timeouts + s.ignored).toBe(reachedDependency);
    expect(s.inFlight).toBe(0);
    // The scenario really exercised every kind of outcome, including late settlements.
    expect(s.timeouts).toBeGreaterThan(0);
    expect(s.rejections).toBeGreaterThan(0);
    expect(s.ignored).toBeGreaterThan(0);
    expect(s.opens).toBeGreaterThan(0);
    expect(lateSettlements).toBeGreaterThan(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a timeout is counted once, as a timeout, even when the call settles afterwards', async () => {
    const clock = new ManualClock();
    const b = new Breaker({ name: 't', clock, timeout: 100 });
    const d = deferred<number>();
    let signal: AbortSignal | undefined;
    const r = outcome(
      b.execute((s) => {
        signal = s;
        return d.promise;
      }),
    );
    clock.advance(100);
    const settled = await r;
    expect(!settled.ok && settled.error).toBeInstanceOf(CallTimeoutError);
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(CallTimeoutError);
    d.reject(new Boom('after the timeout'));
    await flush();
    expect(b.stats()).toMatchObject({ calls: 1, timeouts: 1, failures: 0, successes: 0 });
  });

  it('a call that settles before its timeout is not counted as a timeout, and leaves no timer', async () => {
    const clock = new ManualClock();
    const b = new Breaker({ name: 't', clock, timeout: 100 });
    expect(await b.execute(async () => 5)).toBe(5);
    expect(clock.pendingTimers).toBe(0);
    clock.advance(1_000);
    expect(b.stats()).toMatchObject({ calls: 1, successes: 1, timeouts: 0 });
  });
});

describe('6. no timers', () => {
  it('an OPEN circuit becomes HALF_OPEN on the next read, with no timer scheduled', async () => {
    const { b, clock } = breaker({ failureThreshold: 1 });
    await trip(b, 1);
    expect(clock.pendingTimers).toBe(0);
    clock.advance(999);
    expect(b.state).toBe('OPEN');
    clock.advance(1);
    expect(b.state).toBe('HALF_OPEN');
  });

  it('with the system clock, a tripped, idle breaker holds no timer or handle', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const b = new Breaker({
      name: 'idle',
      failureThreshold: 1,
      openDuration: 60_000,
      timeout: 5_000,
    });
    await outcome(b.execute(() => Promise.reject(new Boom())));
    expect(b.state).toBe('OPEN');
    const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    expect(after).toBe(before);
    b.dispose();
  });
});

describe('7. the clock going backwards corrupts nothing', () => {
  it('a clock stepping back neither re-closes an open period nor stretches it', async () => {
    const { b, clock } = breaker({ failureThreshold: 1 });
    clock.set(10_000);
    await trip(b, 1);
    clock.set(5_000);
    expect(b.state).toBe('OPEN');
    expect(b.stats().retryAfter).toBe(1_000);
    clock.set(11_000);
    expect(b.state).toBe('HALF_OPEN');
  });
});
