/**
 * Failover on Redis Cluster (3 masters, 3 replicas, cluster-node-timeout 1 s, started by the test):
 * a master killed with SIGKILL, its replica promoted. The scenarios are in helpers/failover.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startCluster, type TestCluster } from './helpers/redis-cluster.js';
import {
  type FailoverTopology,
  killMasterUnderLoad,
  probeLimitAcrossFailover,
} from './helpers/failover.js';
import { Instances } from './helpers/topology.js';

let cluster: TestCluster;
const instances = new Instances();
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
let run = 0;

beforeEach(async () => {
  process.on('unhandledRejection', onUnhandled);
  cluster = await startCluster({ masters: 3, replicasPerMaster: 1, nodeTimeout: 1_000 });
}, 60_000);

afterEach(async () => {
  await instances.release();
  await cluster?.stop();
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled.splice(0)).toEqual([]);
}, 30_000);

function topology(): FailoverTopology {
  return {
    redis: () => ({ cluster: [...cluster.nodes] }),
    servers: async (key) => ({
      master: await cluster.masterOf(key),
      replica: await cluster.replicaOf(key),
    }),
    node: (port) => cluster.node(port),
    readReplica: async (port, read) => {
      const client = cluster.node(port);
      await client.call('READONLY');
      return read(client);
    },
    kill: (port) => cluster.kill(port),
    promoted: async (key, replica) => {
      await cluster.healthy();
      expect(await cluster.masterOf(key)).toBe(replica);
    },
  };
}

describe('RedisStore on Redis Cluster, failover', () => {
  it('a master killed under load: every call answered, counters add up, shared again', async () => {
    await killMasterUnderLoad(topology(), instances, `fo${run++}:`);
  }, 180_000);

  it('the fleet-wide probe limit across a failover', async () => {
    await probeLimitAcrossFailover(topology(), instances, `fo${run++}:`);
  }, 180_000);
});
