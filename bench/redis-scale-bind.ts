/**
 * The cost-at-scale bench's first measurement: one `RedisStore` with its default options (in this
 * process, on the bench's own Redis, nothing else running), and N breakers bound to it at once, as a
 * Nest app binds its declared breakers at bootstrap. Measured: the time until the store shares state
 * and has synced every circuit (nothing in flight, nothing waiting), or that it has not within
 * `guardMs`; and how many times meanwhile it logged that it lost Redis.
 */
import { Breaker } from '../lib/core/index.js';
import { RedisStore } from '../lib/redis/index.js';
import { sleep } from './harness.js';
import { breakerName } from './redis-scale-protocol.js';

export interface BindResult {
  readonly breakers: number;
  /** Until shared and caught up, in ms; undefined: not within the guard. */
  readonly ms: number | undefined;
  readonly guardMs: number;
  /** Times the store logged that it lost Redis (a command over commandTimeout). */
  readonly outages: number;
  /** The first reason it gave. */
  readonly reason: string | undefined;
}

export async function bindAtOnce(url: string, n: number, guardMs: number): Promise<BindResult> {
  let outages = 0;
  let reason: string | undefined;
  const store = new RedisStore({
    redis: url,
    prefix: `scale-bind:${n}:`,
    logger: {
      warn: (message) => {
        outages++;
        reason ??= /\((.*)\)/.exec(message)?.[1] ?? message;
      },
      log: () => undefined,
    },
  });
  const breakers: Breaker[] = [];
  try {
    const connected = Date.now() + 10_000;
    while (store.status !== 'shared' && Date.now() < connected) await sleep(5);
    const start = performance.now();
    for (let i = 0; i < n; i++) breakers.push(new Breaker({ name: breakerName(i), store }));
    const deadline = Date.now() + guardMs;
    let ms: number | undefined;
    while (Date.now() < deadline) {
      const s = store.stats();
      if (s.status === 'shared' && s.inFlight === 0 && s.waiting === 0) {
        ms = performance.now() - start;
        break;
      }
      await sleep(5);
    }
    return { breakers: n, ms, guardMs, outages, reason };
  } finally {
    for (const b of breakers) b.dispose();
    await store.close();
  }
}
