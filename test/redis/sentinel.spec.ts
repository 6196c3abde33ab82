/**
 * The Redis store through Sentinel: one master, one replica and three sentinels (quorum 2,
 * down-after-milliseconds 1 s), started by the test on loopback ports; ioredis options with
 * `sentinels` and `name`. The same failover scenarios as on a Cluster (helpers/failover.ts), each
 * on a fresh set of servers, and sharing through a Sentinel-resolved master.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { RedisStore } from '../../lib/redis/index.js';
import { Boom, outcome } from '../core/helpers/async.js';
import { eventually } from '../core/helpers/eventually.js';
import {
  type FailoverTopology,
  killMasterUnderLoad,
  probeLimitAcrossFailover,
} from './helpers/failover.js';
import { startSentinel, type TestSentinel } from './helpers/redis-sentinel.js';
import { Instances } from './helpers/topology.js';

let sentinel: TestSentinel;
const instances = new Instances();
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
let run = 0;

beforeEach(async () => {
  process.on('unhandledRejection', onUnhandled);
  sentinel = await startSentinel({ downAfter: 1_000 });
}, 60_000);

afterEach(async () => {
  await instances.release();
  await sentinel?.stop();
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled.splice(0)).toEqual([]);
}, 30_000);

function topology(): FailoverTopology {
  return {
    redis: () => ({ sentinels: [...sentinel.sentinels], name: sentinel.name }),
    servers: async () => {
      const master = await sentinel.master();
      return { master, replica: sentinel.servers.find((p) => p !== master)! };
    },
    node: (port) => sentinel.node(port),
    readReplica: (port, read) => read(sentinel.node(port)),
    kill: (port) => sentinel.kill(port),
    promoted: (_key, replica) => sentinel.promoted(replica),
  };
}

describe('RedisStore through Sentinel', () => {
  it('shares a circuit through the master Sentinel names, from options or a client', async () => {
    const prefix = `se${run++}:`;
    const client = new Redis({ sentinels: [...sentinel.sentinels], name: sentinel.name });
    client.on('error', () => undefined);
    try {
      const a = instances.store({ redis: topology().redis(), prefix });
      const b = instances.store({ redis: client, prefix });
      for (const store of [a, b])
        await eventually(() => expect(store.status).toBe('shared'), 30_000);
      const options = { name: 's', failureThreshold: 1, openDuration: 600_000 };
      const onA = instances.breaker(a, options);
      const onB = instances.breaker(b, options);
      await onB.execute(async () => 'ok');
      await outcome(onA.execute(() => Promise.reject(new Boom())));
      await eventually(() => expect(onB.state).toBe('OPEN'), 30_000);
      // The circuit is on the master, and replicated.
      const master = sentinel.node(sentinel.servers[0]);
      expect(await master.hget(`${prefix}{s}`, 's')).toBe('OPEN');
      expect(b).toBeInstanceOf(RedisStore);
    } finally {
      client.disconnect();
    }
  }, 60_000);

  it('the master killed under load: every call answered, counters add up, shared again', async () => {
    await killMasterUnderLoad(topology(), instances, `se${run++}:`);
  }, 180_000);

  it('the fleet-wide probe limit across a failover', async () => {
    await probeLimitAcrossFailover(topology(), instances, `se${run++}:`);
  }, 180_000);
});
