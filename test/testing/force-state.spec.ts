/**
 * The engine's package-internal force hook (lib/core/force-state.ts), under the testing module's
 * `force()`: OPEN and HALF_OPEN through the circuit's one transition point, as a real transition
 * (a new generation, a `stateChange` event with reason `forced`, late outcomes stale), and the
 * three manual states through the breaker's own methods.
 */
import { describe, expect, it } from '@jest/globals';
import {
  Breaker,
  BreakerDisposedError,
  CircuitOpenError,
  type CircuitHandle,
  type CircuitStore,
  createLocalCircuit,
  forceState,
  InMemoryStore,
  ManualClock,
  type StateChangeEvent,
} from '../../lib/core/internal.js';

function breakerWith(
  clock: ManualClock,
  extra: Partial<ConstructorParameters<typeof Breaker>[0]> = {},
) {
  const breaker = new Breaker({ name: 'forced', clock, openDuration: 1_000, ...extra });
  const changes: StateChangeEvent[] = [];
  breaker.onStateChange((event) => changes.push(event));
  return { breaker, changes };
}

/** A call that settles when the test says so. */
function pendingCall(breaker: Breaker) {
  let settle!: { resolve: (v: string) => void; reject: (e: Error) => void };
  const result = breaker
    .execute(() => new Promise<string>((resolve, reject) => (settle = { resolve, reject })))
    .then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
  return { settle: () => settle, result };
}

describe('forceState', () => {
  it('OPEN: one transition with reason forced and the configured open period, then HALF_OPEN on the clock', async () => {
    const clock = new ManualClock(5_000);
    const { breaker, changes } = breakerWith(clock);
    forceState(breaker, 'OPEN');
    expect(breaker.state).toBe('OPEN');
    expect(
      changes.map((c) => [c.from, c.to, c.reason, c.openDuration, c.generation, c.at]),
    ).toEqual([['CLOSED', 'OPEN', 'forced', 1_000, 1, 5_000]]);
    await expect(breaker.execute(() => Promise.resolve('x'))).rejects.toBeInstanceOf(
      CircuitOpenError,
    );
    expect(breaker.stats().rejections).toBe(1);
    clock.advance(999);
    expect(breaker.state).toBe('OPEN');
    clock.advance(1);
    expect(breaker.state).toBe('HALF_OPEN');
    expect(await breaker.execute(() => Promise.resolve('probe'))).toBe('probe');
    expect(changes.map((c) => `${c.to}:${c.reason}`)).toEqual([
      'OPEN:forced',
      'HALF_OPEN:open-period-elapsed',
      'CLOSED:probes-succeeded',
    ]);
  });

  it('OPEN with a backoff: its first period', () => {
    const clock = new ManualClock();
    const { breaker, changes } = breakerWith(clock, {
      backoff: { multiplier: 2, maxDuration: 8_000, jitter: 0 },
    });
    forceState(breaker, 'OPEN');
    expect(changes[0]!.openDuration).toBe(1_000);
  });

  it('OPEN again from OPEN: a fresh period and a new generation', () => {
    const clock = new ManualClock();
    const { breaker, changes } = breakerWith(clock);
    forceState(breaker, 'OPEN');
    clock.advance(600);
    forceState(breaker, 'OPEN');
    clock.advance(600);
    expect(breaker.state).toBe('OPEN');
    expect(changes.map((c) => [c.from, c.to, c.generation])).toEqual([
      ['CLOSED', 'OPEN', 1],
      ['OPEN', 'OPEN', 2],
    ]);
  });

  it('HALF_OPEN: exactly halfOpenMaxCalls probes pass, the others are refused', async () => {
    const clock = new ManualClock();
    const { breaker, changes } = breakerWith(clock, { halfOpenMaxCalls: 2 });
    forceState(breaker, 'HALF_OPEN');
    expect(breaker.state).toBe('HALF_OPEN');
    expect(changes.map((c) => [c.from, c.to, c.reason, c.openDuration])).toEqual([
      ['CLOSED', 'HALF_OPEN', 'forced', undefined],
    ]);
    const probes = [pendingCall(breaker), pendingCall(breaker)];
    await expect(breaker.execute(() => Promise.resolve('third'))).rejects.toBeInstanceOf(
      CircuitOpenError,
    );
    probes[0]!.settle().resolve('a');
    probes[1]!.settle().resolve('b');
    await Promise.all(probes.map((p) => p.result));
    expect(breaker.state).toBe('CLOSED');
  });

  it('a failure admitted before a forced OPEN is late: no second opening, the period is not extended', async () => {
    const clock = new ManualClock();
    const { breaker, changes } = breakerWith(clock, { failureThreshold: 1 });
    const call = pendingCall(breaker);
    forceState(breaker, 'OPEN');
    clock.advance(500);
    call.settle().reject(new Error('late'));
    expect(await call.result).toEqual({ error: new Error('late') });
    clock.advance(500);
    expect(breaker.state).toBe('HALF_OPEN');
    expect(changes.map((c) => c.to)).toEqual(['OPEN', 'HALF_OPEN']);
  });

  it('a success admitted before a forced HALF_OPEN is late: it does not close the circuit', async () => {
    const clock = new ManualClock();
    const { breaker } = breakerWith(clock);
    const call = pendingCall(breaker);
    forceState(breaker, 'HALF_OPEN');
    call.settle().resolve('late');
    await call.result;
    expect(breaker.state).toBe('HALF_OPEN');
  });

  it('CLOSED, FORCED_OPEN, DISABLED: reset, isolate, disable', () => {
    const { breaker, changes } = breakerWith(new ManualClock());
    forceState(breaker, 'FORCED_OPEN');
    expect(breaker.state).toBe('FORCED_OPEN');
    forceState(breaker, 'DISABLED');
    expect(breaker.state).toBe('DISABLED');
    forceState(breaker, 'CLOSED');
    expect(breaker.state).toBe('CLOSED');
    expect(changes.map((c) => `${c.to}:${c.reason}`)).toEqual([
      'FORCED_OPEN:isolate',
      'DISABLED:disable',
      'CLOSED:reset',
    ]);
  });

  it('an InMemoryStore circuit is forced for every breaker bound to it', () => {
    const clock = new ManualClock();
    const store = new InMemoryStore();
    const a = new Breaker({ name: 'shared', clock, store });
    const b = new Breaker({ name: 'shared', clock, store });
    forceState(a, 'OPEN');
    expect(b.state).toBe('OPEN');
    forceState(b, 'HALF_OPEN');
    expect(a.state).toBe('HALF_OPEN');
  });

  it('refuses OPEN and HALF_OPEN on a circuit kept by another store, naming the breaker', () => {
    const store: CircuitStore = {
      bind(binding) {
        const local = createLocalCircuit(binding);
        // A handle of its own (as RedisStore's is), not the engine's circuit.
        const handle: CircuitHandle = {
          state: () => local.state(),
          tryAcquire: () => local.tryAcquire(),
          success: (t, d) => local.success(t, d),
          failure: (t, d) => local.failure(t, d),
          release: (t) => local.release(t),
          transition: (to, reason) => local.transition(to, reason),
          retryAfter: () => local.retryAfter(),
          view: () => local.view(),
          snapshot: () => local.snapshot(),
          unbind: () => local.unbind(),
        };
        return handle;
      },
    };
    const breaker = new Breaker({ name: 'remote', store });
    expect(() => forceState(breaker, 'OPEN')).toThrow(
      /Cannot force circuit breaker "remote" to OPEN: its circuit lives in a shared store/,
    );
    expect(() => forceState(breaker, 'HALF_OPEN')).toThrow(TypeError);
    expect(breaker.state).toBe('CLOSED');
    forceState(breaker, 'FORCED_OPEN');
    expect(breaker.state).toBe('FORCED_OPEN');
  });

  it('refuses an unknown state, and a disposed breaker', () => {
    const breaker = new Breaker({ name: 'gone' });
    expect(() => forceState(breaker, 'AJAR' as never)).toThrow(
      'Cannot force circuit breaker "gone": the state must be one of CLOSED, OPEN, HALF_OPEN, FORCED_OPEN, DISABLED, received "AJAR"',
    );
    breaker.dispose();
    expect(() => forceState(breaker, 'OPEN')).toThrow(BreakerDisposedError);
    expect(() => forceState(breaker, 'HALF_OPEN')).toThrow(BreakerDisposedError);
  });
});
