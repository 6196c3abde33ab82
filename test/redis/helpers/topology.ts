import { Breaker, type BreakerOptions } from '../../../lib/core/index.js';
import { RedisStore, type RedisStoreOptions } from '../../../lib/redis/index.js';

/** What the stores of a test logged, and the breakers and stores to release after it. */
export class Instances {
  readonly logs: string[] = [];
  private readonly stores: RedisStore[] = [];
  private readonly breakers: Breaker[] = [];

  store(options: RedisStoreOptions): RedisStore {
    const store = new RedisStore({
      quorum: 1,
      logger: {
        warn: (m) => this.logs.push(`warn: ${m}`),
        log: (m) => this.logs.push(`log: ${m}`),
      },
      ...options,
    });
    this.stores.push(store);
    return store;
  }

  breaker(store: RedisStore, options: Omit<BreakerOptions, 'store'>): Breaker {
    const breaker = new Breaker({ ...options, store });
    this.breakers.push(breaker);
    return breaker;
  }

  async release(): Promise<void> {
    for (const b of this.breakers.splice(0)) b.dispose();
    for (const s of this.stores.splice(0)) await s.close();
  }
}

/** Outcome counters add up: `queued = recorded + pending + dropped.*` (README, stats()). */
export function outcomesAddUp(store: RedisStore): { queued: number; accounted: number } {
  const o = store.stats().outcomes;
  const d = o.dropped;
  return {
    queued: o.queued,
    accounted: o.recorded + o.pending + d.unavailable + d.mismatch + d.overflow + d.stale,
  };
}
