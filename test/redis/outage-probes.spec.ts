/**
 * The fleet-wide probe limit after an outage (README, "Topologies", failover): while Redis is away
 * an instance decides on its own circuit, starting from the fleet's last state; once it shares
 * again, that copy is dropped and the fleet's leases decide. Otherwise an instance that saw the
 * fleet HALF_OPEN would probe on its own circuit beside the fleet's probe, however many leases
 * the fleet holds. One redis-server, paused (SIGSTOP) to make one instance lose it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { type Breaker, isCircuitOpenError } from '../../lib/core/index.js';
import { Boom, deferred, outcome } from '../core/helpers/async.js';
import { eventually } from '../core/helpers/eventually.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';
import { Instances } from './helpers/topology.js';

let redis: TestRedis;
const instances = new Instances();

beforeAll(async () => {
  redis = await startRedis();
}, 30_000);

afterEach(async () => {
  redis?.resume();
  await instances.release();
});

afterAll(async () => {
  await redis?.stop();
});

/**
 * A, B and D share a circuit; A trips it, B holds its one probe lease (a probe that hangs); then
 * D loses Redis (its other breaker's batch gets no answer within commandTimeout), and `during`
 * runs while D is degraded; then Redis is back and D shares again.
 */
async function scenario(prefix: string, during: (onD: Breaker) => Promise<void>) {
  const options = {
    name: 'p',
    failureThreshold: 1,
    openDuration: 200,
    halfOpenMaxCalls: 1,
    probeExpiry: 600_000,
  };
  const stores = [0, 1, 2].map(() =>
    instances.store({ redis: redis.url, prefix, commandTimeout: 300, retryInterval: 100 }),
  );
  const [onA, onB, onD] = stores.map((s) => instances.breaker(s, options)) as [
    Breaker,
    Breaker,
    Breaker,
  ];
  // D's other breaker, on a circuit that stays CLOSED: its outcomes are what D sends to Redis.
  const busy = instances.breaker(stores[2]!, { name: 'busy' });
  for (const s of stores) await eventually(() => expect(s.status).toBe('shared'), 10_000);
  await outcome(onA.execute(() => Promise.reject(new Boom())));
  await eventually(() => expect(onB.state).toBe('HALF_OPEN'), 10_000);
  await eventually(() => expect(onD.state).toBe('HALF_OPEN'), 10_000);
  const hung = deferred<string>();
  const probeB = outcome(onB.execute(() => hung.promise));
  const client = redis.client();
  await eventually(async () => expect(await client.zcard(`${prefix}{p}:leases`)).toBe(1));

  redis.pause();
  await busy.execute(async () => 'ok');
  await eventually(() => expect(stores[2]!.status).toBe('degraded'), 10_000);
  redis.resume();
  await during(onD);
  await eventually(() => expect(stores[2]!.status).toBe('shared'), 10_000);
  return { onD, hung, probeB };
}

describe('the fleet-wide probe limit after an outage', () => {
  it('an instance that copied a HALF_OPEN fleet while degraded probes only by a lease once shared', async () => {
    const { onD, hung, probeB } = await scenario(`outage-probes-a:${Date.now()}:`, async () => {});
    // B holds the fleet's one lease: D's calls are refused, none probes.
    let reached = 0;
    const refused = await Promise.all(
      [0, 1, 2].map(() => outcome(onD.execute(async () => void reached++))),
    );
    expect(reached).toBe(0);
    expect(refused.every((r) => !r.ok && isCircuitOpenError(r.error))).toBe(true);
    hung.resolve('ok');
    await probeB;
    await eventually(() => expect(onD.state).toBe('CLOSED'), 10_000);
  }, 60_000);

  it('an instance whose own probe failed while degraded keeps its own circuit once shared', async () => {
    const { onD, hung, probeB } = await scenario(`outage-probes-b:${Date.now()}:`, async (d) => {
      // Decided locally: D's own circuit (the fleet's copy, its period over) probes, and fails.
      const probe = await outcome(d.execute(() => Promise.reject(new Boom())));
      expect(probe.ok).toBe(false);
      expect(isCircuitOpenError((probe as { error: unknown }).error)).toBe(false);
      expect(d.state).toBe('OPEN');
    });
    // That verdict is D's own: D keeps deciding on its own circuit (README, "When Redis is
    // back"), whose next probe is its own, whatever the fleet's lease.
    await eventually(() => expect(onD.state).toBe('HALF_OPEN'), 10_000);
    let reached = 0;
    await outcome(onD.execute(async () => void reached++));
    expect(reached).toBe(1);
    hung.resolve('ok');
    await probeB;
  }, 60_000);
});
