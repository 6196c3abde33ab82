import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Breaker, systemClock } from '../../lib/core/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { eventually } from '../core/helpers/eventually.js';
import { describeStoreContract } from '../core/store-contract.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';

let redis: TestRedis;
const stores: RedisStore[] = [];

beforeAll(async () => {
  redis = await startRedis();
}, 30_000);

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await redis?.stop();
});

/** Waits, on the condition that time has moved on, never for a fixed time. */
async function passes(ms: number): Promise<void> {
  const target = Date.now() + ms;
  while (Date.now() < target) await new Promise<void>((resolve) => setImmediate(resolve));
}

describeStoreContract('RedisStore', async () => {
  const store = new RedisStore({
    redis: redis.url,
    prefix: `contract:${Date.now()}:`,
    quorum: 1,
    // Generous, so that a busy machine rarely makes Redis "unavailable" (degradation itself is
    // tested in faults.spec.ts); the contract checks the documented degraded form if it happens.
    // CONTRACT_COMMAND_TIMEOUT=8 (ms) makes it happen, to see those checks at work.
    commandTimeout: Number(process.env.CONTRACT_COMMAND_TIMEOUT ?? 5_000),
    logger: { warn: () => undefined, log: () => undefined },
  });
  stores.push(store);
  await eventually(() => expect(store.status).toBe('shared'), 15_000);
  return {
    store,
    clock: systemClock,
    openDuration: 200,
    advance: passes,
    close: () => store.close(),
  };
});

describe('RedisStore keys', () => {
  it('are all under the prefix, and every one expires', async () => {
    const prefix = `ttl:${Date.now()}:`;
    const store = new RedisStore({
      redis: redis.url,
      prefix,
      quorum: 1,
      keyTtl: 60_000,
      logger: { warn: () => undefined, log: () => undefined },
    });
    stores.push(store);
    const b = new Breaker({ name: 'ttl', store, policy: 'time-window', minimumCalls: 2 });
    const c = new Breaker({ name: 'ring', store, policy: 'count-window', minimumCalls: 2 });
    try {
      await eventually(() => expect(store.status).toBe('shared'), 10_000);
      for (const breaker of [b, c]) {
        await breaker.execute(async () => 1);
        await breaker.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
        await breaker.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
      }
      const client = redis.client();
      await eventually(async () => {
        const keys = await client.keys(`${prefix}*`);
        expect(keys.length).toBeGreaterThanOrEqual(4);
        for (const key of keys) {
          const ttl = await client.pttl(key);
          expect([key, ttl > 0 && ttl <= 60_000]).toEqual([key, true]);
        }
      });
      expect(await client.keys('*{ttl}*')).toEqual(
        expect.arrayContaining([expect.stringMatching(new RegExp(`^${prefix}`))]),
      );
    } finally {
      b.dispose();
      c.dispose();
    }
  });
});
