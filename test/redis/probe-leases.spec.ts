/**
 * Each fleet probe settles its own lease. README: "A probe that never settles cannot strand the
 * breaker: after `probeExpiry` it counts as failed", fleet-wide too: a hung probe's lease keeps its
 * own expiry, so settling a later probe must not release the hung one's lease (which would leave
 * the later probe's, newer, lease in Redis and move the hung probe's expiry with every probe).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { Breaker } from '../../lib/core/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { Boom, deferred, outcome } from '../core/helpers/async.js';
import { eventually } from '../core/helpers/eventually.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';

let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
}, 30_000);

afterAll(async () => {
  await redis?.stop();
});

describe('fleet probe leases', () => {
  it('a settled probe releases its own lease; the hung probe keeps its own', async () => {
    const prefix = `leases:${Date.now()}:`;
    // Two instances: A's calls fail and trip the fleet (A's own circuit then decides for A); B's
    // own circuit stays CLOSED, so B's probes take fleet leases.
    const stores = ['a', 'b'].map(
      (id) =>
        new RedisStore({
          redis: redis.url,
          prefix,
          instanceId: id,
          quorum: 1,
          commandTimeout: 5_000,
          logger: { warn: () => undefined, log: () => undefined },
        }),
    );
    const [a, b] = stores.map(
      (store) =>
        new Breaker({
          name: 'l',
          store,
          failureThreshold: 1,
          openDuration: 200,
          halfOpenMaxCalls: 2,
          probeExpiry: 60_000,
        }),
    ) as [Breaker, Breaker];
    const client = new Redis(redis.url);
    try {
      for (const store of stores)
        await eventually(() => expect(store.status).toBe('shared'), 10_000);
      await outcome(a.execute(() => Promise.reject(new Boom())));
      await eventually(() => expect(b.state).toBe('OPEN'), 10_000);
      await eventually(() => expect(b.state).toBe('HALF_OPEN'), 10_000);
      const key = `${prefix}{l}:leases`;
      const hung = b.execute(() => new Promise<never>(() => undefined)); // probe A
      void hung.catch(() => undefined);
      await eventually(async () => expect(await client.zcard(key)).toBe(1), 10_000);
      const [leaseA] = await client.zrange(key, '0', '-1');
      const second = deferred<string>();
      const probeB = b.execute(() => second.promise);
      await eventually(async () => expect(await client.zcard(key)).toBe(2), 10_000);
      // B succeeds: only B's lease goes; A's stays, with its own expiry.
      second.resolve('ok');
      await probeB;
      await eventually(async () => expect(await client.zrange(key, '0', '-1')).toEqual([leaseA]));
      expect(b.state).toBe('HALF_OPEN');
    } finally {
      client.disconnect();
      a.dispose();
      b.dispose();
      for (const store of stores) await store.close();
    }
  }, 60_000);
});
