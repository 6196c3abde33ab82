/**
 * An instance's own circuit, while it decides (this instance alone was failing, or Redis was away),
 * must keep the outcomes of the calls it admitted, whatever the fleet's circuit does meanwhile:
 * a probe of the own circuit that is dropped leaves the own circuit HALF_OPEN with its slot taken,
 * refusing every call until `probeExpiry` (a minute by default), long after the fleet recovered.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Breaker } from '../../lib/core/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { Boom, deferred, outcome } from '../core/helpers/async.js';
import { eventually } from '../core/helpers/eventually.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';

let redis: TestRedis;
const cleanup: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  redis = await startRedis();
}, 30_000);

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

afterAll(async () => {
  await redis?.stop();
});

const OPEN_MS = 300;

/** One instance: its own store (as one process has), and breakers of one name on it. */
async function instance(prefix: string, quorum: number, breakers = 1) {
  const store = new RedisStore({
    redis: redis.url,
    prefix,
    quorum,
    // Generous: this test is about a fleet transition during a probe, not about a slow Redis.
    commandTimeout: 5_000,
    logger: { warn: () => undefined, log: () => undefined },
  });
  const made = Array.from(
    { length: breakers },
    () => new Breaker({ name: 'ledger', store, failureThreshold: 5, openDuration: OPEN_MS }),
  );
  cleanup.push(async () => {
    for (const b of made) b.dispose();
    await store.close();
  });
  await eventually(() => expect(store.status).toBe('shared'), 10_000);
  // From here on the store must stay shared: the test is not about Redis going away.
  const statuses: string[] = [];
  for (const b of made) b.onStoreStatus((e) => statuses.push(e.status));
  return { store, breakers: made, statuses };
}

describe("an instance's own circuit", () => {
  it("keeps its probe's outcome when the fleet's circuit opens during the probe (quorum 2)", async () => {
    const prefix = `own-a:${Date.now()}:`;
    // X has a second breaker of the same name: it follows the fleet, so the test can see when
    // X's store has heard the fleet's transition.
    const x = await instance(prefix, 2, 2);
    const y = await instance(prefix, 2);
    const [bx, watcher] = x.breakers as [Breaker, Breaker];
    const by = y.breakers[0]!;

    // X alone fails: its own circuit opens, the fleet's stays closed (one instance of two needed).
    for (let i = 0; i < 5; i++) await outcome(bx.execute(() => Promise.reject(new Boom())));
    await eventually(() => expect(bx.state).toBe('OPEN'));
    expect(watcher.state).toBe('CLOSED');
    expect(by.state).toBe('CLOSED');

    // X's own open period ends; X's own probe goes, and is still running when...
    await eventually(() => expect(bx.state).toBe('HALF_OPEN'));
    const probe = deferred<string>();
    let reached = 0;
    const probed = outcome(
      bx.execute(() => {
        reached++;
        return probe.promise;
      }),
    );
    expect(reached).toBe(1);

    // ...Y fails too: two instances now, the fleet opens, and X's store hears it.
    await outcome(by.execute(() => Promise.reject(new Boom())));
    await eventually(() => {
      expect(by.state).toBe('OPEN');
      expect(watcher.state).toBe('OPEN');
    });

    // X's probe succeeds: X's own circuit closes, and X follows the fleet again (OPEN).
    probe.resolve('recovered');
    expect(await probed).toEqual({ ok: true, value: 'recovered' });
    await eventually(() => expect(bx.state).toBe('OPEN'));
    expect(bx.stats().store).toBe('shared');

    // The fleet's open period ends, one probe closes it, and X admits calls again.
    await eventually(() => expect(by.state).toBe('HALF_OPEN'));
    expect(await by.execute(async () => 'fleet probe')).toBe('fleet probe');
    await eventually(() => {
      expect(bx.state).toBe('CLOSED');
      expect(watcher.state).toBe('CLOSED');
    });
    expect(await bx.execute(async () => 'served')).toBe('served');
    expect([...x.statuses, ...y.statuses]).toEqual([]);
  }, 30_000);
});
