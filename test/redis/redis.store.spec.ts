import { afterAll, beforeAll } from '@jest/globals';
import { systemClock } from '../../lib/core/index.js';
import { RedisStore } from '../../lib/redis/index.js';
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
    logger: { warn: () => undefined, log: () => undefined },
  });
  stores.push(store);
  const ready = Date.now() + 5_000;
  while (store.status !== 'shared' && Date.now() < ready) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return {
    store,
    clock: systemClock,
    openDuration: 200,
    advance: passes,
    close: () => store.close(),
  };
});
