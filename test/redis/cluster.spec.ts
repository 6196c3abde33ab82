/**
 * The Redis store on a real Redis Cluster (3 masters, started by the test on loopback ports),
 * through ioredis `Cluster`. README, "Topologies": a breaker's keys (and, with sharded pub/sub,
 * its channel) share one hash tag, so its scripts run on the one node that serves the slot; a
 * transition made on one instance reaches the others whichever master holds the circuit, by
 * sharded pub/sub (`SPUBLISH`/`SSUBSCRIBE`) by default, by classic `PUBLISH` (forwarded to every
 * node) with `shardedPubSub: false`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Cluster } from 'ioredis';
import { BreakerOptionsError } from '../../lib/core/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { Boom, outcome } from '../core/helpers/async.js';
import { eventually } from '../core/helpers/eventually.js';
import { startCluster, type TestCluster } from './helpers/redis-cluster.js';
import { Instances } from './helpers/topology.js';

let cluster: TestCluster;
const instances = new Instances();
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
let run = 0;

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  cluster = await startCluster({ masters: 3 });
}, 60_000);

afterEach(async () => {
  await instances.release();
  expect(unhandled).toEqual([]);
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await cluster?.stop();
});

/** A fresh prefix, and one breaker name served by each master. */
async function namesOnEveryMaster(): Promise<{ prefix: string; names: string[] }> {
  const prefix = `cl${run++}:`;
  const byMaster = new Map<number, string>();
  for (let i = 0; byMaster.size < 3; i++) {
    const name = `b${i}`;
    const master = await cluster.masterOf(`${prefix}{${name}}`);
    if (!byMaster.has(master)) byMaster.set(master, name);
  }
  return { prefix, names: [...byMaster.values()] };
}

/** Every key under `prefix` on every master, with its slot and the node that holds it. */
async function keysUnder(
  prefix: string,
): Promise<Array<{ key: string; slot: number; port: number }>> {
  const found: Array<{ key: string; slot: number; port: number }> = [];
  for (const port of cluster.ports) {
    const node = cluster.node(port);
    const keys = await node.keys(`${prefix}*`);
    for (const key of keys)
      found.push({ key, slot: Number(await node.cluster('KEYSLOT', key)), port });
  }
  return found;
}

const shared = (store: RedisStore) => eventually(() => expect(store.status).toBe('shared'), 20_000);

describe('RedisStore on Redis Cluster', () => {
  it("keeps each breaker's keys and channel in one slot, on the master that runs its scripts", async () => {
    const { prefix, names } = await namesOnEveryMaster();
    const store = instances.store({ redis: { cluster: [...cluster.nodes] }, prefix });
    await shared(store);
    // One policy a breaker, so that every kind of key is written: the count window's ring, the
    // time window's buckets, the quorum's sources.
    const policies = [
      { policy: 'count-window', windowSize: 4, minimumCalls: 4 },
      { policy: 'time-window', windowDuration: 60_000, minimumCalls: 4 },
      { policy: 'consecutive', failureThreshold: 3 },
    ] as const;
    const breakers = names.map((name, i) => instances.breaker(store, { name, ...policies[i]! }));
    for (const breaker of breakers) {
      await outcome(breaker.execute(() => Promise.reject(new Boom())));
      await outcome(breaker.execute(() => Promise.reject(new Boom())));
    }
    await eventually(() => expect(store.stats().outcomes.recorded).toBe(6), 20_000);
    const keys = await keysUnder(prefix);
    const probe = cluster.node(cluster.ports[0]!);
    for (const name of names) {
      const mine = keys.filter((k) => k.key.startsWith(`${prefix}{${name}}`));
      const slot = Number(await probe.cluster('KEYSLOT', `${prefix}{${name}}:events`));
      // The hash, and the window or the sources: at least two keys, all in the channel's slot, on
      // the master that serves that slot.
      expect(mine.length).toBeGreaterThanOrEqual(2);
      expect(new Set(mine.map((k) => k.slot))).toEqual(new Set([slot]));
      expect(new Set(mine.map((k) => k.port))).toEqual(
        new Set([await cluster.masterOf(`${prefix}{${name}}`)]),
      );
    }
    // Nothing else was written (no key outside a breaker's hash tag).
    expect(keys.every((k) => names.some((n) => k.key.startsWith(`${prefix}{${n}}`)))).toBe(true);
    // The three breakers do live on three masters.
    expect(new Set(keys.map((k) => k.port)).size).toBe(3);
  }, 60_000);

  it('shares transitions between instances on every master, by sharded pub/sub', async () => {
    const { prefix, names } = await namesOnEveryMaster();
    const heard: string[] = [];
    const listener = cluster.client();
    const raw = new Cluster([...cluster.nodes], {
      shardedSubscribers: true,
      redisOptions: { disconnectTimeout: 0 },
    });
    raw.on('error', () => undefined);
    raw.on('smessage', (channel: string) => heard.push(channel));
    try {
      for (const name of names) await raw.ssubscribe(`${prefix}{${name}}:events`);
      const [a, b] = [0, 1].map(() =>
        instances.store({ redis: { cluster: [...cluster.nodes] }, prefix }),
      ) as [RedisStore, RedisStore];
      await shared(a);
      await shared(b);
      const options = { failureThreshold: 1, openDuration: 600_000 };
      const onA = names.map((name) => instances.breaker(a, { name, ...options }));
      const onB = names.map((name) => instances.breaker(b, { name, ...options }));
      // Each store listens on each circuit's channel, on the master that holds the circuit.
      for (const name of names) {
        const owner = cluster.node(await cluster.masterOf(`${prefix}{${name}}`));
        await eventually(async () => {
          const [, count] = (await owner.call(
            'PUBSUB',
            'SHARDNUMSUB',
            `${prefix}{${name}}:events`,
          )) as [string, number];
          expect(count).toBe(3); // a, b and the raw listener
        }, 20_000);
      }
      for (const breaker of onA) await outcome(breaker.execute(() => Promise.reject(new Boom())));
      // B's open period is long and B asked nothing: it learnt each transition from its channel.
      for (const breaker of onB) await eventually(() => expect(breaker.state).toBe('OPEN'), 20_000);
      for (const name of names) expect(heard).toContain(`${prefix}{${name}}:events`);
      // Nothing on the classic channel: no node has a subscriber for it.
      for (const port of cluster.ports) {
        const [, count] = (await cluster
          .node(port)
          .call('PUBSUB', 'NUMSUB', `${prefix}events`)) as [string, number];
        expect(count).toBe(0);
      }
      // And back: a manual transition on B reaches A.
      for (const breaker of onB) breaker.reset();
      for (const breaker of onA)
        await eventually(() => expect(breaker.state).toBe('CLOSED'), 20_000);
    } finally {
      raw.disconnect();
      listener.disconnect();
    }
  }, 90_000);

  it('with shardedPubSub: false, publishes on one classic channel, which reaches every node', async () => {
    const { prefix, names } = await namesOnEveryMaster();
    const name = names[0]!;
    const owner = await cluster.masterOf(`${prefix}{${name}}`);
    // A classic subscriber on a node that does not hold the circuit.
    const elsewhere = cluster.node(cluster.ports.find((p) => p !== owner)!);
    const heard: string[] = [];
    elsewhere.on('message', (channel: string) => heard.push(channel));
    await elsewhere.subscribe(`${prefix}events`);
    const [a, b] = [0, 1].map(() =>
      instances.store({ redis: { cluster: [...cluster.nodes] }, prefix, shardedPubSub: false }),
    ) as [RedisStore, RedisStore];
    await shared(a);
    await shared(b);
    const options = { name, failureThreshold: 1, openDuration: 600_000 };
    const onA = instances.breaker(a, options);
    const onB = instances.breaker(b, options);
    await onB.execute(async () => 'ok');
    await outcome(onA.execute(() => Promise.reject(new Boom())));
    await eventually(() => expect(onB.state).toBe('OPEN'), 20_000);
    await eventually(() => expect(heard).toContain(`${prefix}events`), 20_000);
    const [, sharded] = (await cluster
      .node(owner)
      .call('PUBSUB', 'SHARDNUMSUB', `${prefix}{${name}}:events`)) as [string, number];
    expect(sharded).toBe(0);
  }, 60_000);

  it('copies a Cluster client, and names the option when the node list is empty', async () => {
    const prefix = `cl${run++}:`;
    const client = cluster.client();
    const store = instances.store({ redis: client, prefix });
    await shared(store);
    const breaker = instances.breaker(store, { name: 'copied', failureThreshold: 1 });
    await outcome(breaker.execute(() => Promise.reject(new Boom())));
    await eventually(async () => expect(await client.hget(`${prefix}{copied}`, 's')).toBe('OPEN'));
    // The store used its own connections: the client it copied is still the test's.
    expect(client.status).toBe('ready');
    expect(() => new RedisStore({ redis: { cluster: [] } })).toThrow(BreakerOptionsError);
    expect(() => new RedisStore({ redis: { cluster: [] } })).toThrow(
      /redis\.cluster.*non-empty array of startup nodes/,
    );
    expect(() => new RedisStore({ redis: client, shardedPubSub: 'yes' as never })).toThrow(
      /shardedPubSub.*a boolean/,
    );
  }, 60_000);
});
