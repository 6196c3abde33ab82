/**
 * Half-open admission in detail: each probe owns its ticket, waiters take freed slots in order and
 * keep waiting otherwise, and a caller's signal is honoured while a store decides. README:
 * "Exactly `halfOpenMaxCalls` probes ... A probe that never settles cannot strand the breaker:
 * after `probeExpiry` it counts as failed."
 */
import { describe, expect, it } from '@jest/globals';
import {
  ACQUIRE_ASYNC,
  Breaker,
  Circuit,
  type CircuitBinding,
  type CircuitHandle,
  type CircuitStore,
  ManualClock,
  isCircuitOpenError,
} from '../../lib/core/internal.js';
import { Boom, deferred, flush, outcome } from './helpers/async.js';

class NotFound extends Error {}
const down = (): Promise<never> => Promise.reject(new Boom());
const hang = (): Promise<never> => new Promise<never>(() => undefined);

function halfOpen(extra: Record<string, unknown> = {}): { b: Breaker; clock: ManualClock } {
  const clock = new ManualClock(0);
  const b = new Breaker({
    name: 'a',
    clock,
    failureThreshold: 1,
    openDuration: 100,
    probeExpiry: 1_000,
    ignore: [NotFound],
    ...extra,
  });
  return { b, clock };
}

describe('probe tickets', () => {
  it('a probe from an earlier half-open period settles nothing in a later one', async () => {
    const { b, clock } = halfOpen();
    await outcome(b.execute(down));
    clock.advance(100);
    const old = deferred<string>();
    const first = b.execute(() => old.promise); // probe 1, will expire
    clock.advance(1_000);
    expect(b.state).toBe('OPEN'); // probe-expired
    clock.advance(200); // the next open period (100 ms) is over
    const second = deferred<string>();
    const probe2 = b.execute(() => second.promise);
    old.resolve('late');
    await first;
    expect(b.state).toBe('HALF_OPEN'); // the late success was not probe 2's
    expect(b.stats().failedProbes).toBe(1);
    second.resolve('ok');
    await probe2;
    expect(b.state).toBe('CLOSED');
  });

  it('each of two probes expires from its own start', async () => {
    const { b, clock } = halfOpen({ halfOpenMaxCalls: 2 });
    await outcome(b.execute(down));
    clock.advance(100);
    const a = deferred<string>();
    void outcome(b.execute(() => a.promise)); // probe A at 100
    clock.advance(500);
    void outcome(b.execute(hang)); // probe B at 600, hangs
    a.reject(new NotFound()); // A ends with no verdict: B must keep its own start, 600
    await flush();
    clock.set(1_599);
    expect(b.state).toBe('HALF_OPEN');
    clock.set(1_600);
    expect(b.state).toBe('OPEN');
  });

  it('a call admitted while CLOSED does not count as a probe when it settles in HALF_OPEN', async () => {
    const { b, clock } = halfOpen({ halfOpenMaxCalls: 2 });
    const early = deferred<string>();
    const closedCall = b.execute(() => early.promise); // admitted CLOSED
    await outcome(b.execute(down));
    clock.advance(100);
    const probe = deferred<string>();
    const p = b.execute(() => probe.promise);
    early.resolve('from before');
    await closedCall;
    expect(b.stats().state).toBe('HALF_OPEN');
    probe.resolve('ok');
    await p;
    expect(b.state).toBe('HALF_OPEN'); // 1 of 2 probes succeeded
    await b.execute(() => 'second');
    expect(b.state).toBe('CLOSED');
  });
});

describe('half-open waiters', () => {
  it('a freed slot goes to the longest waiter; the next keeps waiting until its own timeout', async () => {
    const { b, clock } = halfOpen({ halfOpenWaitTimeout: 500 });
    await outcome(b.execute(down));
    clock.advance(100);
    const probe = deferred<string>();
    const first = outcome(b.execute(() => probe.promise));
    const order: string[] = [];
    const w1 = b.execute(async () => {
      order.push('w1 ran');
      return new Promise<string>(() => undefined); // becomes the probe and hangs
    });
    const w2 = outcome(b.execute(() => 'w2'));
    void w1.catch(() => undefined);
    probe.reject(new NotFound());
    await first;
    await flush();
    expect(order).toEqual(['w1 ran']);
    let w2Done = false;
    void w2.then(() => (w2Done = true));
    await flush();
    expect(w2Done).toBe(false); // still waiting: its 500 ms are not over
    clock.advance(499);
    await flush();
    expect(w2Done).toBe(false);
    clock.advance(1);
    const r = await w2;
    expect(!r.ok && isCircuitOpenError(r.error) && r.error.state).toBe('HALF_OPEN');
    expect(clock.pendingTimers).toBe(0);
  });

  it('a verdict wakes every waiter: a close lets them all run', async () => {
    const { b, clock } = halfOpen({ halfOpenWaitTimeout: 500 });
    await outcome(b.execute(down));
    clock.advance(100);
    const probe = deferred<string>();
    const running = b.execute(() => probe.promise);
    const waiters = [1, 2, 3].map((i) => b.execute(() => `w${i}`));
    probe.resolve('ok');
    await running;
    await expect(Promise.all(waiters)).resolves.toEqual(['w1', 'w2', 'w3']);
    expect(clock.pendingTimers).toBe(0);
  });
});

/** A store that keeps every admission on the asynchronous road, released by the test. */
class SlowStore implements CircuitStore {
  gate = deferred<void>();
  circuit: Circuit | undefined;
  bind(binding: CircuitBinding): CircuitHandle {
    const circuit = (this.circuit = new Circuit(binding));
    return {
      state: () => circuit.state(),
      tryAcquire: () => ACQUIRE_ASYNC,
      acquire: async () => {
        await this.gate.promise;
        return circuit.tryAcquire();
      },
      success: (t, d) => circuit.success(t, d),
      failure: (t, d) => circuit.failure(t, d),
      release: (t) => circuit.release(t),
      transition: (to, reason) => circuit.transition(to, reason),
      retryAfter: () => circuit.retryAfter(),
      view: () => circuit.view(),
      snapshot: () => circuit.snapshot(),
      unbind: () => circuit.unbind(),
    };
  }
}

describe("a caller's signal while an asynchronous store decides", () => {
  it('aborted during the decision: the function never runs, the probe slot is given back', async () => {
    const store = new SlowStore();
    const clock = new ManualClock(0);
    const b = new Breaker({ name: 's', clock, store, failureThreshold: 1, openDuration: 10 });
    store.gate.resolve();
    await outcome(b.execute(down));
    clock.advance(10);
    store.gate = deferred<void>();
    const controller = new AbortController();
    let ran = false;
    const call = outcome(
      b.execute(
        () => {
          ran = true;
          return 'x';
        },
        { signal: controller.signal },
      ),
    );
    controller.abort(new Error('left'));
    store.gate.resolve();
    const r = await call;
    expect(r.ok ? '' : (r.error as Error).message).toBe('left');
    expect(ran).toBe(false);
    expect(store.circuit!.view().probesInFlight).toBe(0);
    await expect(b.execute(() => 'probe')).resolves.toBe('probe');
    expect(b.state).toBe('CLOSED');
    const s = b.stats();
    expect([s.calls, s.failures, s.ignored, s.successes]).toEqual([3, 1, 1, 1]);
  });
});

describe('synchronous callers and a store that decides only asynchronously', () => {
  // circuit-store.ts: `ACQUIRE_ASYNC` "when only acquire() can decide"; README: executeSync and
  // acquire() never wait, so such a call is refused as a full half-open: retry soon.
  it('executeSync and acquire() refuse as HALF_OPEN (retryAfter 0) without running the function', () => {
    const store = new SlowStore();
    const b = new Breaker({ name: 'sync', store });
    let ran = false;
    const thrown: unknown[] = [];
    try {
      b.executeSync(() => (ran = true));
    } catch (error) {
      thrown.push(error);
    }
    try {
      b.acquire();
    } catch (error) {
      thrown.push(error);
    }
    expect(ran).toBe(false);
    expect(thrown).toHaveLength(2);
    for (const error of thrown) {
      expect(isCircuitOpenError(error)).toBe(true);
      expect(error).toMatchObject({ state: 'HALF_OPEN', retryAfter: 0 });
    }
    const s = b.stats();
    expect([s.calls, s.rejections, s.rejectionsByReason.halfOpen, s.successes]).toEqual([
      2, 2, 2, 0,
    ]);
    expect(store.circuit!.view().probesInFlight).toBe(0);
  });
});

describe('call options', () => {
  it.each([
    ['null options', null, '"options" must be an object, received null'],
    ['args not an array', { args: 'x' }, '"args" must be an array, received "x" (string)'],
    [
      'a signal without listeners',
      { signal: { aborted: false } },
      '"signal" must be an AbortSignal',
    ],
  ])('%s: a TypeError before admission, not counted', async (_, options, message) => {
    const b = new Breaker({ name: 'o' });
    const r = await outcome(b.execute(() => 'x', options as never));
    expect(!r.ok && r.error instanceof TypeError && r.error.message).toContain(message);
    expect(r.ok ? '' : (r.error as Error).message).toContain('Circuit breaker "o"');
    expect(b.stats().calls).toBe(0);
  });

  it('an aborted signal refuses executeSync at once, counted as ignored, with an event', () => {
    const b = new Breaker({ name: 'o' });
    const ignored: unknown[] = [];
    b.onIgnored((e) => ignored.push(e.error));
    const controller = new AbortController();
    const reason = new Error('gone');
    controller.abort(reason);
    expect(() => b.executeSync(() => 'x', { signal: controller.signal })).toThrow(reason);
    expect(ignored).toEqual([reason]);
    expect(b.stats().ignored).toBe(1);
  });
});

describe('restoring open periods', () => {
  const open = (openUntil: number) =>
    ({ state: 'OPEN', generation: 3, since: 0, openedAt: 0, openUntil, failedProbes: 2 }) as const;

  it('with a backoff, a period up to backoff.maxDuration is kept', () => {
    const b = new Breaker({
      name: 'r',
      clock: new ManualClock(0),
      openDuration: 100,
      backoff: { maxDuration: 5_000 },
      initialState: open(4_000),
    });
    expect(b.toJSON().openUntil).toBe(4_000);
    const capped = new Breaker({
      name: 'r',
      clock: new ManualClock(0),
      openDuration: 100,
      backoff: { maxDuration: 5_000 },
      initialState: open(9_000),
    });
    expect(capped.toJSON().openUntil).toBe(5_000);
  });

  it('with a backoff function, any finite period is kept', () => {
    const b = new Breaker({
      name: 'r',
      clock: new ManualClock(0),
      openDuration: 100,
      backoff: () => 100,
      initialState: open(90_000),
    });
    expect(b.toJSON().openUntil).toBe(90_000);
  });

  it('a half-open snapshot restores as open with its period over', () => {
    const b = new Breaker({
      name: 'r',
      clock: new ManualClock(50),
      initialState: { state: 'HALF_OPEN', generation: 3, since: 40, failedProbes: 1 },
    });
    expect(b.toJSON()).toMatchObject({ state: 'HALF_OPEN', failedProbes: 1 });
  });
});
