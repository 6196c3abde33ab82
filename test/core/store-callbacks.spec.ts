import { describe, expect, it } from '@jest/globals';
import {
  Breaker,
  type CircuitBinding,
  type CircuitStore,
  InMemoryStore,
  isBreakerDisposedError,
  isBreakerOptionsError,
  ManualClock,
  type StoreStatusEvent,
} from '../../lib/core/index.js';

/** A store that hands out in-memory circuits and keeps each breaker's binding, to play the store. */
function capturingStore(): { store: CircuitStore; bindings: CircuitBinding[] } {
  const inner = new InMemoryStore();
  const bindings: CircuitBinding[] = [];
  return {
    bindings,
    store: {
      bind(binding) {
        bindings.push(binding);
        return inner.bind(binding);
      },
    },
  };
}

describe('what a store reports reaches the user (README: options table, Events)', () => {
  // README, options table: `onCallbackError` "receives errors thrown by listeners, `isFailure`,
  // `ignore` or a store".
  it('an error the store reports goes to onCallbackError with source "store" and the breaker name', () => {
    const { store, bindings } = capturingStore();
    const seen: [unknown, string, string][] = [];
    new Breaker({
      name: 'inventory',
      store,
      onCallbackError: (error, source, breaker) => seen.push([error, source, breaker]),
    });
    const lost = new Error('connection lost');
    bindings[0]!.onError(lost);
    expect(seen).toEqual([[lost, 'store', 'inventory']]);
  });

  it('a reporter that throws does not reach the store', () => {
    const { store, bindings } = capturingStore();
    new Breaker({
      name: 'inventory',
      store,
      onCallbackError: () => {
        throw new Error('reporter broke');
      },
    });
    expect(() => bindings[0]!.onError(new Error('lost'))).not.toThrow();
  });

  // README, Multi-instance: a store that loses its server "reports `degraded` (a `storeStatus` event …)".
  it('a status change the store reports is a storeStatus event naming the breaker, the status and the error', () => {
    const { store, bindings } = capturingStore();
    const breaker = new Breaker({ name: 'inventory', store });
    const events: StoreStatusEvent[] = [];
    breaker.onStoreStatus((event) => events.push(event));
    const lost = new Error('connection lost');
    bindings[0]!.onStoreStatus!('degraded', lost);
    bindings[0]!.onStoreStatus!('shared');
    expect(events).toEqual([
      { breaker: 'inventory', status: 'degraded', error: lost },
      { breaker: 'inventory', status: 'shared', error: undefined },
    ]);
  });

  it('with no storeStatus listener a status change is harmless, and later listeners still hear the next', () => {
    const { store, bindings } = capturingStore();
    const breaker = new Breaker({ name: 'inventory', store });
    expect(() => bindings[0]!.onStoreStatus!('degraded')).not.toThrow();
    const events: string[] = [];
    breaker.onStoreStatus(({ status }) => events.push(status));
    bindings[0]!.onStoreStatus!('shared');
    expect(events).toEqual(['shared']);
  });
});

describe('construction refuses a clock that cannot tell the time (README: errors at construction)', () => {
  it.each([
    ['NaN', Number.NaN, 'NaN (number)'],
    ['Infinity', Infinity, 'Infinity (number)'],
    ['a string', '12', '"12" (string)'],
  ])(
    'now() returning %s is a BreakerOptionsError naming the breaker and the clock',
    (_, value, shown) => {
      const clock = { now: () => value as number, setTimeout: () => 0, clearTimeout: () => {} };
      let error: unknown;
      try {
        new Breaker({ name: 'clocked', clock });
      } catch (caught) {
        error = caught;
      }
      expect(isBreakerOptionsError(error)).toBe(true);
      expect((error as Error).message).toBe(
        'Circuit breaker "clocked": option "clock" must be a clock whose now() returns a finite number ' +
          `of milliseconds, received a clock whose now() returned ${shown}`,
      );
    },
  );

  it('a clock reading 0 or a negative finite time is accepted', () => {
    expect(new Breaker({ name: 'zero', clock: new ManualClock(0) }).state).toBe('CLOSED');
    expect(new Breaker({ name: 'negative', clock: new ManualClock(-5) }).state).toBe('CLOSED');
  });
});

describe('`using breaker = new Breaker(...)` disposes it at the end of the scope (README: Shutdown)', () => {
  it('the breaker refuses calls after its scope ends', () => {
    let outside: Breaker | undefined;
    {
      using breaker = new Breaker({ name: 'scoped' });
      outside = breaker;
      expect(breaker.isDisposed).toBe(false);
    }
    expect(outside.isDisposed).toBe(true);
    let error: unknown;
    try {
      outside.executeSync(() => 1);
    } catch (caught) {
      error = caught;
    }
    expect(isBreakerDisposedError(error)).toBe(true);
  });
});
