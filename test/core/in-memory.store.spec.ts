import { describe, expect, it } from '@jest/globals';
import { Breaker, BreakerOptionsError, InMemoryStore, ManualClock } from '../../lib/core/index.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract('InMemoryStore', async () => {
  const clock = new ManualClock();
  return {
    store: new InMemoryStore(),
    clock,
    advance: async (ms) => clock.advance(ms),
  };
});

describe('InMemoryStore', () => {
  it('refuses a breaker whose circuit options differ from those already bound under its name', () => {
    const store = new InMemoryStore();
    const a = new Breaker({ name: 'db', store, failureThreshold: 5 });
    expect(() => new Breaker({ name: 'db', store, failureThreshold: 6 })).toThrow(
      BreakerOptionsError,
    );
    expect(
      () => new Breaker({ name: 'db', store, failureThreshold: 5, timeout: 100 }),
    ).not.toThrow();
    a.dispose();
  });

  it('forgets a circuit when its last breaker is disposed', () => {
    const store = new InMemoryStore();
    const a = new Breaker({ name: 'db', store });
    const b = new Breaker({ name: 'db', store });
    a.dispose();
    expect(store.names()).toEqual(['db']);
    b.dispose();
    expect(store.names()).toEqual([]);
    const c = new Breaker({ name: 'db', store, failureThreshold: 9 });
    expect(c.state).toBe('CLOSED');
    c.dispose();
  });
});
