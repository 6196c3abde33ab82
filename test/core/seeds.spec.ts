/**
 * The concurrency scenarios of the two seed documents (shared/seeds/), ported to Node.js at ten
 * times their sizes. Threads become concurrent async calls whose settlement order the test controls.
 */
import { describe, expect, it } from '@jest/globals';
import {
  Breaker,
  type BreakerOptions,
  type BreakerStats,
  ManualClock,
  isBreakerDisposedError,
  isCircuitOpenError,
} from '../../lib/core/index.js';
import { Boom, deferred, flush, outcome, seededRandom } from './helpers/async.js';

function make(options: Partial<BreakerOptions> = {}) {
  const clock = new ManualClock();
  const b = new Breaker({
    name: 'vault',
    clock,
    failureThreshold: 5,
    openDuration: 1_000,
    ...options,
  });
  const transitions: string[] = [];
  b.onStateChange((e) => transitions.push(`${e.from}->${e.to}`));
  return { b, clock, transitions };
}

function addsUp(s: BreakerStats): boolean {
  return s.calls === s.successes + s.failures + s.timeouts + s.ignored + s.rejections;
}

function settle(call: {
  d: { resolve(v: number): void; reject(e: unknown): void };
  fails: boolean;
}) {
  if (call.fails) call.d.reject(new Boom());
  else call.d.resolve(1);
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

describe('seed 000 (Python, RLock-guarded breaker), scenarios at 10x', () => {
  it('1. 200 concurrent requests with mixed success and failure: counts are exact, no race', async () => {
    const random = seededRandom(1);
    const { b, transitions } = make({ failureThreshold: 1_000 });
    const calls = Array.from({ length: 200 }, (_, i) => ({
      d: deferred<number>(),
      fails: i % 2 === 0,
    }));
    const results = calls.map((c) => outcome(b.execute(() => c.d.promise)));
    // Settle in a random order: the order threads would finish in.
    let streak = 0;
    let expectedStreak = 0;
    for (const c of shuffle([...calls], random)) {
      settle(c);
      streak = c.fails ? streak + 1 : 0;
      expectedStreak = streak;
    }
    await Promise.all(results);
    expect(b.stats()).toMatchObject({
      calls: 200,
      successes: 100,
      failures: 100,
      consecutiveFailures: expectedStreak,
    });
    expect(transitions).toEqual([]);
  });

  it('2. 500 concurrent successful operations: the circuit stays CLOSED with zero failures', async () => {
    const { b, transitions } = make();
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) => b.execute(async () => i)),
    );
    expect(results).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(b.stats()).toMatchObject({
      state: 'CLOSED',
      failures: 0,
      successes: 500,
      consecutiveFailures: 0,
    });
    expect(transitions).toEqual([]);
  });

  it('3. 100 concurrent failing requests open the circuit after the threshold, once', async () => {
    const { b, transitions } = make({ failureThreshold: 5 });
    const calls = Array.from({ length: 100 }, () => deferred<number>());
    const results = calls.map((d) => outcome(b.execute(() => d.promise)));
    calls.forEach((d) => d.reject(new Boom()));
    await Promise.all(results);
    expect(transitions).toEqual(['CLOSED->OPEN']);
    expect(b.stats()).toMatchObject({ failures: 100, opens: 1 });
    // Afterwards every call is rejected until the open period ends.
    const after = await outcome(b.execute(async () => 1));
    expect(!after.ok && isCircuitOpenError(after.error)).toBe(true);
  });

  it('4. 300 concurrent write operations are each counted exactly once', async () => {
    const random = seededRandom(4);
    const { b } = make({ failureThreshold: 1_000 });
    const store = new Map<number, number>();
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        outcome(
          b.execute(async () => {
            await flush(1 + Math.floor(random() * 3));
            if (i % 10 === 9) throw new Boom('write conflict');
            store.set(i, i * 2);
            return i;
          }),
        ),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(270);
    expect(store.size).toBe(270);
    expect(b.stats()).toMatchObject({ calls: 300, successes: 270, failures: 30, inFlight: 0 });
  });

  it('5. 200 concurrent health checks during calls each see a consistent snapshot', async () => {
    const { b } = make({ failureThreshold: 7 });
    const snapshots: BreakerStats[] = [];
    const calls = Array.from({ length: 200 }, (_, i) => ({
      d: deferred<number>(),
      fails: i % 3 === 0,
    }));
    const results = calls.map((c) => outcome(b.execute(() => c.d.promise)));
    const checks = Array.from({ length: 200 }, async (_, i) => {
      await flush(1 + (i % 3));
      snapshots.push(b.stats());
    });
    calls.forEach((c, i) => {
      if (i % 2 === 0) settle(c);
    });
    await flush(2);
    calls.forEach((c, i) => {
      if (i % 2 === 1) settle(c);
    });
    await Promise.all([...results, ...checks]);
    expect(snapshots).toHaveLength(200);
    for (const s of snapshots) {
      expect(addsUp(s)).toBe(true);
      expect(s.calls + s.inFlight).toBe(200);
    }
  });

  it('6. dispose during 100 in-flight operations: they finish, new calls are refused, nothing is left running', async () => {
    const { b, clock } = make({ timeout: 5_000 });
    const calls = Array.from({ length: 100 }, () => deferred<number>());
    const results = calls.map((d, i) => outcome(b.execute(() => d.promise.then(() => i))));
    b.dispose();
    const refused = await outcome(b.execute(async () => 1));
    expect(!refused.ok && isBreakerDisposedError(refused.error)).toBe(true);
    calls.forEach((d) => d.resolve(0));
    const settled = await Promise.all(results);
    expect(settled.every((r) => r.ok)).toBe(true);
    expect(b.stats()).toMatchObject({ calls: 100, successes: 100, inFlight: 0 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('7. 250 requests through a concurrency cap of 5 all complete, never more than 5 at once', async () => {
    const random = seededRandom(7);
    const { b } = make({ maxConcurrent: 5, maxQueue: 245 });
    let running = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 250 }, (_, i) =>
        b.execute(async () => {
          running++;
          peak = Math.max(peak, running);
          await flush(1 + Math.floor(random() * 3));
          running--;
          return i;
        }),
      ),
    );
    expect(results).toHaveLength(250);
    expect(new Set(results).size).toBe(250);
    expect(peak).toBe(5);
    expect(b.stats()).toMatchObject({ successes: 250, rejections: 0, queued: 0, inFlight: 0 });
  });

  it('8. 1,000 concurrent failing requests (stress): state and counters stay consistent', async () => {
    const random = seededRandom(8);
    const { b, transitions } = make({ failureThreshold: 5 });
    const calls = Array.from({ length: 1_000 }, () => deferred<number>());
    const results = calls.map((d) => outcome(b.execute(() => d.promise)));
    for (const d of shuffle([...calls], random)) d.reject(new Boom());
    await Promise.all(results);
    const s = b.stats();
    expect(transitions).toEqual(['CLOSED->OPEN']);
    expect(s).toMatchObject({ state: 'OPEN', generation: 1, failures: 1_000, calls: 1_000 });
    expect(addsUp(s)).toBe(true);
  });
});

describe('seed 002 (C#, lock-free fast path), scenarios at 10x', () => {
  it('1. concurrent failures: 1,000 callers, the circuit opens exactly once', async () => {
    const { b, transitions } = make({ failureThreshold: 10 });
    const opens: number[] = [];
    b.onOpen((e) => opens.push(e.generation));
    await Promise.all(
      Array.from({ length: 1_000 }, () => outcome(b.execute(() => Promise.reject(new Boom())))),
    );
    expect(opens).toEqual([1]);
    expect(transitions).toEqual(['CLOSED->OPEN']);
  });

  it('2. half-open transitions: 1,000 callers after the break, one probe, no thundering herd', async () => {
    const { b, clock, transitions } = make({ failureThreshold: 1 });
    await outcome(b.execute(() => Promise.reject(new Boom())));
    clock.advance(1_000);
    let reached = 0;
    const gate = deferred<void>();
    const results = Array.from({ length: 1_000 }, () =>
      outcome(
        b.execute(async () => {
          reached++;
          await gate.promise;
        }),
      ),
    );
    await flush();
    expect(reached).toBe(1);
    gate.resolve();
    await Promise.all(results);
    expect(transitions).toEqual(['CLOSED->OPEN', 'OPEN->HALF_OPEN', 'HALF_OPEN->CLOSED']);
  });

  it('3. mixed operations: 2,000 calls settling in random order leave a state that matches their history', async () => {
    const random = seededRandom(3);
    const { b, clock, transitions } = make({ failureThreshold: 4, openDuration: 50 });
    const calls = Array.from({ length: 2_000 }, () => ({
      d: deferred<number>(),
      fails: random() < 0.3,
    }));
    // A call refused by an open circuit never consumes its promise: mark them all handled.
    for (const c of calls) c.d.promise.catch(() => undefined);
    const results: Array<Promise<unknown>> = [];
    for (const [i, c] of calls.entries()) {
      results.push(outcome(b.execute(() => c.d.promise)));
      if (i % 10 === 9) {
        const batch = shuffle(calls.slice(i - 9, i + 1), random);
        for (const x of batch) settle(x);
        await flush(1);
        clock.advance(Math.floor(random() * 30));
      }
    }
    await Promise.all(results);
    const s = b.stats();
    expect(addsUp(s)).toBe(true);
    expect(s.calls).toBe(2_000);
    // Every transition is one of the legal moves of the state machine, and opens alternate with
    // recoveries: never OPEN twice in a row without a HALF_OPEN in between.
    const legal = new Set([
      'CLOSED->OPEN',
      'OPEN->HALF_OPEN',
      'HALF_OPEN->CLOSED',
      'HALF_OPEN->OPEN',
    ]);
    expect(transitions.every((t) => legal.has(t))).toBe(true);
    for (let i = 1; i < transitions.length; i++) {
      expect(transitions[i]!.split('->')[0]).toBe(transitions[i - 1]!.split('->')[1]);
    }
    expect(transitions.length).toBeGreaterThan(3);
    expect(s.generation).toBe(transitions.length);
  });

  it('4. statistics read while 1,000 calls write them are consistent snapshots', async () => {
    const { b } = make({ failureThreshold: 1_000, maxConcurrent: 50, maxQueue: 100 });
    const snapshots: BreakerStats[] = [];
    const readers = setInterval(() => snapshots.push(b.stats()), 0);
    const results = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        outcome(
          b.execute(async () => {
            snapshots.push(b.stats());
            await flush(1);
            if (i % 4 === 0) throw new Boom();
            return i;
          }),
        ),
      ),
    );
    clearInterval(readers);
    expect(results).toHaveLength(1_000);
    expect(snapshots.length).toBeGreaterThan(100);
    for (const s of snapshots) {
      expect(addsUp(s)).toBe(true);
      expect(s.inFlight).toBeLessThanOrEqual(50);
      expect(s.queued).toBeLessThanOrEqual(100);
    }
    const final = b.stats();
    expect(final.calls).toBe(1_000);
    expect(final.rejections).toBe(final.rejectionsByReason.bulkhead);
  });

  it('5. reset and dispose while 500 calls are in flight: safe, nothing lost, nothing left', async () => {
    const { b, clock } = make({ failureThreshold: 3, timeout: 10_000 });
    const calls = Array.from({ length: 500 }, () => deferred<number>());
    const results = calls.map((d) => outcome(b.execute(() => d.promise)));
    calls.slice(0, 100).forEach((d) => d.reject(new Boom()));
    await flush();
    expect(b.state).toBe('OPEN');
    b.reset();
    calls.slice(100, 200).forEach((d) => d.reject(new Boom()));
    await flush();
    // Failures of calls admitted before the reset do not re-open the fresh circuit.
    expect(b.state).toBe('CLOSED');
    b.dispose();
    calls.slice(200).forEach((d) => d.resolve(1));
    const settled = await Promise.all(results);
    expect(settled.filter((r) => r.ok)).toHaveLength(300);
    expect(b.stats()).toMatchObject({ calls: 500, failures: 200, successes: 300, inFlight: 0 });
    expect(clock.pendingTimers).toBe(0);
  });
});
