/**
 * A family's keys shared fleet-wide through a real redis-server: two stores (two instances) with
 * one family each. Waits are on conditions, with deadlines only as hang guards.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BreakerFamily } from '../../lib/core/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { eventually } from '../core/helpers/eventually.js';
import { startRedis, type TestRedis } from '../redis/helpers/redis-server.js';

let redis: TestRedis;
const stores: RedisStore[] = [];

beforeAll(async () => {
  redis = await startRedis();
}, 30_000);

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await redis?.stop();
});

async function sharedStore(prefix: string): Promise<RedisStore> {
  const store = new RedisStore({
    redis: redis.url,
    prefix,
    quorum: 1,
    commandTimeout: 5_000,
    logger: { warn: () => undefined, log: () => undefined },
  });
  stores.push(store);
  await eventually(() => expect(store.status).toBe('shared'), 15_000);
  return store;
}

/** The store's bound circuits by name: what an evicted key must not leave behind. */
function circuitNames(store: RedisStore): string[] {
  return [...(store as unknown as { circuits: Map<string, unknown> }).circuits.keys()].sort();
}

const fail = () => Promise.reject(new Error('down'));

describe('BreakerFamily on a RedisStore', () => {
  it('shares each key fleet-wide: a key tripped on one instance is open on the other, other keys are not', async () => {
    const prefix = `family:${Date.now()}:`;
    const [one, two] = [await sharedStore(prefix), await sharedStore(prefix)];
    const options = { name: 'carrier', failureThreshold: 2, openDuration: 60_000 };
    const a = new BreakerFamily({ ...options, store: one });
    const b = new BreakerFamily({ ...options, store: two });
    try {
      b.get('dhl');
      b.get('ups');
      await a
        .get('dhl')
        .execute(fail)
        .catch(() => undefined);
      await a
        .get('dhl')
        .execute(fail)
        .catch(() => undefined);
      // The fleet's circuit decides in Redis: the outcomes reach it, then the transition comes back.
      await eventually(() => expect(a.get('dhl').state).toBe('OPEN'), 10_000);
      await eventually(() => expect(b.get('dhl').state).toBe('OPEN'), 10_000);
      expect(b.get('ups').state).toBe('CLOSED');
      expect(a.get('ups').state).toBe('CLOSED');
      const keys = await redis.client().keys(`${prefix}*`);
      expect(keys).toEqual(expect.arrayContaining([`${prefix}{carrier:dhl}`]));
    } finally {
      a.dispose();
      b.dispose();
    }
  }, 30_000);

  it('an evicted key leaves no circuit bound in the store; the key comes back fresh from the fleet', async () => {
    const prefix = `family-evict:${Date.now()}:`;
    const [one, two] = [await sharedStore(prefix), await sharedStore(prefix)];
    const options = { name: 'tenant', failureThreshold: 1, openDuration: 60_000 };
    const small = new BreakerFamily({ ...options, store: one, maxKeys: 2 });
    const other = new BreakerFamily({ ...options, store: two });
    try {
      small.get('t1');
      small.get('t2');
      expect(circuitNames(one)).toEqual(['tenant:t1', 'tenant:t2']);
      small.get('t3');
      expect(small.keys()).toEqual(['t2', 't3']);
      expect(circuitNames(one)).toEqual(['tenant:t2', 'tenant:t3']);
      // The fleet trips t1 meanwhile: the returning key reads it from Redis.
      await other
        .get('t1')
        .execute(fail)
        .catch(() => undefined);
      await eventually(() => expect(other.get('t1').state).toBe('OPEN'), 10_000);
      const back = small.get('t1');
      expect(circuitNames(one)).toEqual(['tenant:t1', 'tenant:t3']);
      await eventually(() => expect(back.state).toBe('OPEN'), 10_000);
      small.dispose();
      expect(circuitNames(one)).toEqual([]);
    } finally {
      small.dispose();
      other.dispose();
    }
  }, 30_000);
});
