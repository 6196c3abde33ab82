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

describe('the fleet-wide probe limit after an outage', () => {
  it('an instance that copied a HALF_OPEN fleet while degraded probes only by a lease once shared', async () => {
    const prefix = `outage-probes:${Date.now()}:`;
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

    // D loses Redis (its batch gets no answer within commandTimeout): it decides alone, from
    // the fleet's last state.
    redis.pause();
    await busy.execute(async () => 'ok');
    await eventually(() => expect(stores[2]!.status).toBe('degraded'), 10_000);
    redis.resume();
    await eventually(() => expect(stores[2]!.status).toBe('shared'), 10_000);

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
});
