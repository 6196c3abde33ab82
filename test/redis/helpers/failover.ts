/**
 * The failover scenarios, run on Redis Cluster and on Sentinel (README, "Topologies"): a master
 * killed with SIGKILL while instances use it, a replica promoted. Assertions are on states, counts
 * and orders; every deadline is a hang guard.
 */
import { expect } from '@jest/globals';
import type { Redis } from 'ioredis';
import { type Breaker, isCircuitOpenError } from '../../../lib/core/index.js';
import type { RedisStore, RedisStoreOptions } from '../../../lib/redis/index.js';
import { Boom, deferred, outcome } from '../../core/helpers/async.js';
import { eventually } from '../../core/helpers/eventually.js';
import { Instances, outcomesAddUp } from './topology.js';

/** What a scenario needs of a topology. */
export interface FailoverTopology {
  /** The store's `redis` option. */
  redis(): RedisStoreOptions['redis'];
  /** The master serving `key` now, and the replica that will take over from it. */
  servers(key: string): Promise<{ master: number; replica: number }>;
  /** A client for one data server (closed by the topology). */
  node(port: number): Redis;
  /** Reads from a replica (on a Cluster, after `READONLY`). */
  readReplica<T>(port: number, read: (client: Redis) => Promise<T>): Promise<T>;
  kill(port: number): Promise<void>;
  /** Waits until `replica` is the master serving `key`. */
  promoted(key: string, replica: number): Promise<void>;
}

const STORE = { commandTimeout: 500, retryInterval: 200, quorum: 1 } as const;
const HANG_GUARD = 60_000;

/** Records a store's statuses as its breaker reports them. */
function statusesOf(breaker: Breaker): string[] {
  const seen: string[] = [];
  breaker.onStoreStatus((e) => seen.push(e.status));
  return seen;
}

const shared = (store: RedisStore) =>
  eventually(() => expect(store.status).toBe('shared'), HANG_GUARD);

/**
 * Two instances under load on one circuit; its master is killed. Every call gets its answer (none
 * waits on Redis past commandTimeout: the load's calls never stop settling), the outcome counters
 * add up at every step, both instances go `degraded` and then `shared` again, and a transition
 * made on one is then seen by the other.
 */
export async function killMasterUnderLoad(
  topology: FailoverTopology,
  instances: Instances,
  prefix: string,
): Promise<void> {
  const name = 'loaded';
  const [a, b] = [0, 1].map(() =>
    instances.store({ ...STORE, redis: topology.redis(), prefix }),
  ) as [RedisStore, RedisStore];
  const options = { name, failureThreshold: 5, openDuration: 600_000 };
  const onA = instances.breaker(a, options);
  const onB = instances.breaker(b, options);
  const statuses = [statusesOf(onA), statusesOf(onB)];
  await shared(a);
  await shared(b);
  const { master, replica } = await topology.servers(`${prefix}{${name}}`);

  let running = true;
  let started = 0;
  let settled = 0;
  const broken: string[] = [];
  const check = () => {
    for (const store of [a, b]) {
      const { queued, accounted } = outcomesAddUp(store);
      if (queued !== accounted) broken.push(`${queued} queued, ${accounted} accounted`);
    }
  };
  const loop = async (breaker: Breaker) => {
    while (running) {
      started++;
      await outcome(breaker.execute(async () => 'ok'));
      settled++;
      check();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  const loops = [onA, onA, onB, onB].map(loop);
  await eventually(() => expect(a.stats().outcomes.recorded).toBeGreaterThan(100), HANG_GUARD);

  await topology.kill(master);
  // Both instances notice (their batches fail or time out) and decide locally meanwhile.
  await eventually(
    () => expect(statuses.map((s) => s.includes('degraded'))).toEqual([true, true]),
    HANG_GUARD,
  );
  const settledWhileDegraded = settled;
  await eventually(() => expect(settled).toBeGreaterThan(settledWhileDegraded + 100), HANG_GUARD);
  await topology.promoted(`${prefix}{${name}}`, replica);
  await shared(a);
  await shared(b);
  // Sharing again: outcomes reach the promoted replica.
  const before = a.stats().outcomes.recorded;
  await eventually(
    () => expect(a.stats().outcomes.recorded).toBeGreaterThan(before + 100),
    HANG_GUARD,
  );
  running = false;
  await Promise.all(loops);
  expect(settled).toBe(started);
  expect(broken).toEqual([]);
  for (const store of [a, b]) {
    await eventually(() => expect(store.stats().outcomes.pending).toBe(0), HANG_GUARD);
    const { queued, accounted } = outcomesAddUp(store);
    expect(accounted).toBe(queued);
    expect(store.stats().peakInFlight).toBeLessThanOrEqual(store.stats().maxInFlight);
  }
  for (const s of statuses) {
    expect(s.indexOf('degraded')).toBeGreaterThanOrEqual(0);
    expect(s.at(-1)).toBe('shared');
  }
  // A transition made on A after the promotion reaches B.
  for (let i = 0; i < 5; i++) await outcome(onA.execute(() => Promise.reject(new Boom())));
  await eventually(() => expect(onB.state).toBe('OPEN'), HANG_GUARD);
}

/**
 * The fleet-wide probe limit across a failover (`halfOpenMaxCalls: 1`). B holds the only probe
 * lease, replicated, when the master dies. Callers waiting for a lease at that moment get their
 * answer from their own circuit, which starts from the fleet's last state: one of them probes. After the promotion the new master still has B's lease: C's calls
 * are refused (no second probe). Then the lease is removed from the new master, as when the kill
 * beats replication (a write acked by the master and never replicated): exactly one more probe gets
 * through (D's), never more, so at most 2 × halfOpenMaxCalls run at once; B's late verdict, its
 * lease gone, changes nothing, and D's decides.
 */
export async function probeLimitAcrossFailover(
  topology: FailoverTopology,
  instances: Instances,
  prefix: string,
): Promise<void> {
  const name = 'probed';
  const key = `${prefix}{${name}}`;
  const leases = `${key}:leases`;
  const stores = [0, 1, 2, 3].map(() =>
    instances.store({ ...STORE, redis: topology.redis(), prefix }),
  );
  const options = {
    name,
    failureThreshold: 1,
    openDuration: 300,
    halfOpenMaxCalls: 1,
    probeExpiry: 600_000,
  };
  const [onA, onB, onC, onD] = stores.map((s) => instances.breaker(s, options)) as [
    Breaker,
    Breaker,
    Breaker,
    Breaker,
  ];
  const statuses = [statusesOf(onB), statusesOf(onC)];
  for (const store of stores) await shared(store);
  const { master, replica } = await topology.servers(key);
  const primary = topology.node(master);

  // A trips the fleet (A's own circuit opens too); B and C, their own circuits closed, see it.
  await outcome(onA.execute(() => Promise.reject(new Boom())));
  await eventually(() => expect(onB.state).toBe('HALF_OPEN'), HANG_GUARD);
  await eventually(() => expect(onC.state).toBe('HALF_OPEN'), HANG_GUARD);
  const hung = deferred<string>();
  const probeB = outcome(onB.execute(() => hung.promise));
  await eventually(async () => expect(await primary.zcard(leases)).toBe(1), HANG_GUARD);
  const [lease] = await primary.zrange(leases, '0', '-1');
  await eventually(
    async () => expect(await topology.readReplica(replica, (r) => r.zcard(leases))).toBe(1),
    HANG_GUARD,
  );

  await topology.kill(master);
  // C asks Redis for a lease now. Its calls get their answer from C's own circuit, which starts
  // from the fleet's last state (HALF_OPEN): exactly halfOpenMaxCalls of them probe, locally.
  const gate = deferred<string>();
  let local = 0;
  let refusedLocally = 0;
  const during = [0, 1, 2].map(() =>
    onC
      .execute(() => {
        local++;
        return gate.promise;
      })
      .catch((error: unknown) => {
        if (isCircuitOpenError(error)) refusedLocally++;
        throw error;
      }),
  );
  await eventually(() => expect(local + refusedLocally).toBe(3), HANG_GUARD);
  expect(local).toBe(1);
  gate.resolve('decided locally');
  expect((await Promise.allSettled(during)).filter((r) => r.status === 'fulfilled')).toHaveLength(
    1,
  );
  await eventually(
    () => expect(statuses.map((s) => s.includes('degraded'))).toEqual([true, true]),
    HANG_GUARD,
  );
  await topology.promoted(key, replica);
  for (const store of stores) await shared(store);
  const promotedNode = topology.node(replica);
  expect(await promotedNode.zrange(leases, '0', '-1')).toEqual([lease]);

  // The replicated lease holds: no second probe.
  let reached = 0;
  const refused = await Promise.all(
    [0, 1, 2].map(() => outcome(onC.execute(async () => void reached++))),
  );
  expect(reached).toBe(0);
  expect(refused.every((r) => !r.ok && isCircuitOpenError(r.error))).toBe(true);

  // The lease lost, as when the master acked it and died before replicating it. (C, refused, asks
  // Redis again only once the lease it was told of expires: D asks now.)
  expect(await promotedNode.zrem(leases, lease!)).toBe(1);
  const verdict = deferred<string>();
  const probeD = outcome(
    onD.execute(() => {
      reached++;
      return verdict.promise;
    }),
  );
  await eventually(async () => expect(await promotedNode.zcard(leases)).toBe(1), HANG_GUARD);
  const more = await Promise.all(
    [onC, onD, onD].map((breaker) => outcome(breaker.execute(async () => void reached++))),
  );
  expect(reached).toBe(1); // B's and D's: two probes at once, never a third
  expect(more.every((r) => !r.ok && isCircuitOpenError(r.error))).toBe(true);

  // B's verdict comes late: its lease is gone, so the fleet ignores it.
  hung.reject(new Boom());
  expect((await probeB).ok).toBe(false);
  expect(await promotedNode.hget(key, 's')).toBe('HALF_OPEN');
  verdict.resolve('ok');
  expect(await probeD).toEqual({ ok: true, value: 'ok' });
  await eventually(
    async () => expect(await promotedNode.hget(key, 's')).toBe('CLOSED'),
    HANG_GUARD,
  );
  await eventually(() => expect(onB.state).toBe('CLOSED'), HANG_GUARD);
}
