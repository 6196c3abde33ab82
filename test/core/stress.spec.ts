/**
 * Stress: many calls at high concurrency with random latencies, failures, timeouts and ignored
 * errors; many breakers created and disposed. Counters must add up exactly, each generation must
 * have one transition, and memory must come back after garbage collection. Time is a ManualClock:
 * latencies are timers on it, so the run is exact and takes no wall-clock waiting.
 */
import { describe, expect, it } from '@jest/globals';
import {
  Breaker,
  InMemoryStore,
  ManualClock,
  type StateChangeEvent,
  isCallTimeoutError,
  isCircuitOpenError,
} from '../../lib/core/index.js';
import { Boom, Ignorable, flush, seededRandom } from './helpers/async.js';
import { settledHeap } from './helpers/heap.js';

/** Heap growth that a leak of even 16 bytes per call (1.6 MB over 100,000 calls) would exceed. */
const TOLERANCE = 1_000_000;

async function hammer(calls: number, concurrency: number, seed: number) {
  const random = seededRandom(seed);
  const clock = new ManualClock();
  const breaker = new Breaker({
    name: 'stress',
    clock,
    timeout: 40,
    ignore: [Ignorable],
    policy: 'count-window',
    windowSize: 50,
    minimumCalls: 20,
    failureRateThreshold: 0.5,
    openDuration: 100,
    halfOpenMaxCalls: 3,
    backoff: { multiplier: 1.5, maxDuration: 1_000, jitter: 0.2 },
    random,
  });
  const transitions: StateChangeEvent[] = [];
  breaker.onStateChange((e) => transitions.push(e));
  const tally = { ok: 0, failures: 0, timeouts: 0, ignored: 0, rejections: 0 };
  let started = 0;
  let reached = 0;

  const worker = async (): Promise<void> => {
    while (started < calls) {
      started++;
      const fate = random();
      // A stretch of bad luck now and then, so the circuit really opens and recovers.
      const outage = Math.floor(clock.now() / 300) % 3 === 1;
      try {
        await breaker.execute(
          () =>
            new Promise<number>((resolve, reject) => {
              reached++;
              // Mostly fast, with a tail past the 40 ms timeout.
              const latency = Math.floor(random() ** 2 * 60);
              clock.setTimeout(() => {
                if (fate < (outage ? 0.7 : 0.1)) reject(new Boom());
                else if (fate < (outage ? 0.75 : 0.15)) reject(new Ignorable());
                else resolve(1);
              }, latency);
            }),
        );
        tally.ok++;
      } catch (error) {
        if (isCircuitOpenError(error)) {
          tally.rejections++;
          // Like a real client, wait a little (on the manual clock) before trying again.
          await new Promise<void>((resolve) =>
            clock.setTimeout(resolve, 10 + Math.floor(random() * 40)),
          );
        } else if (isCallTimeoutError(error)) tally.timeouts++;
        else if (error instanceof Ignorable) tally.ignored++;
        else if (error instanceof Boom) tally.failures++;
        else throw error;
      }
    }
  };

  let done = false;
  const all = Promise.all(Array.from({ length: concurrency }, worker)).then(() => (done = true));
  while (!done) {
    clock.advance(1 + Math.floor(random() * 5));
    await flush(1);
  }
  await all;
  clock.advance(1_000);
  const stats = breaker.stats();
  breaker.dispose();
  return { stats, tally, transitions, reached, pendingTimers: clock.pendingTimers };
}

describe('stress', () => {
  it('100,000 calls at concurrency 1,000: counters add up exactly, one transition per generation, memory comes back', async () => {
    await hammer(2_000, 100, 1); // warm up code paths before measuring
    const before = await settledHeap();
    const { stats, tally, transitions, reached, pendingTimers } = await hammer(100_000, 1_000, 42);

    expect(stats.calls).toBe(100_000);
    expect(stats.calls).toBe(
      stats.successes + stats.failures + stats.timeouts + stats.ignored + stats.rejections,
    );
    expect({
      ok: stats.successes,
      failures: stats.failures,
      timeouts: stats.timeouts,
      ignored: stats.ignored,
      rejections: stats.rejections,
    }).toEqual(tally);
    expect(stats.successes + stats.failures + stats.timeouts + stats.ignored).toBe(reached);
    expect(stats.inFlight).toBe(0);
    expect(pendingTimers).toBe(0);

    // Every generation has exactly one transition, and each starts where the last one ended.
    expect(transitions.length).toBeGreaterThan(10);
    transitions.forEach((t, i) => {
      expect(t.generation).toBe(i + 1);
      if (i > 0) expect(t.from).toBe(transitions[i - 1]!.to);
    });
    expect(stats.timeouts).toBeGreaterThan(0);
    expect(stats.rejections).toBeGreaterThan(0);
    expect(stats.successes).toBeGreaterThan(5_000);

    const after = await settledHeap();
    expect(after - before).toBeLessThan(TOLERANCE);
  }, 120_000);

  it('10,000 breakers created, used and disposed in a loop: memory returns to baseline', async () => {
    const store = new InMemoryStore();
    const cycle = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const b = new Breaker({ name: `b${i % 100}`, failureThreshold: 1, openDuration: 10 });
        b.onOpen(() => undefined);
        await b.execute(async () => i).catch(() => undefined);
        await b.execute(() => Promise.reject(new Boom())).catch(() => undefined);
        const shared = new Breaker({ name: `s${i}`, store });
        shared.dispose();
        b.dispose();
      }
    };
    await cycle(1_000);
    const before = await settledHeap();
    await cycle(10_000);
    const after = await settledHeap();
    expect(store.names()).toEqual([]);
    expect(after - before).toBeLessThan(TOLERANCE);
  }, 120_000);
});
