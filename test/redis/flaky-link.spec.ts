/**
 * One instance's link to Redis fails while the others' stays up (a TCP proxy in front of Redis for
 * that instance): what that instance was doing when it lost Redis must not be lost or stranded
 * when Redis comes back. Waits are on conditions, with deadlines only as hang guards; the default
 * probeExpiry (a minute) is far beyond every deadline, so a stranded probe slot fails the test.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Breaker, isCircuitOpenError } from '../../lib/core/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { Boom, deferred, outcome } from '../core/helpers/async.js';
import { eventually } from '../core/helpers/eventually.js';
import { type RedisProxy, startProxy } from './helpers/proxy.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';

let redis: TestRedis;
const links: RedisProxy[] = [];
const cleanup: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  redis = await startRedis();
}, 30_000);

afterEach(async () => {
  // A test that failed with a link held must not leave the stores' close() waiting on it.
  for (const link of links.splice(0)) link.release();
  for (const step of cleanup.splice(0).reverse()) await step();
});

afterAll(async () => {
  await redis?.stop();
});

const OPEN_MS = 300;

async function proxy(): Promise<RedisProxy> {
  const p = await startProxy({ port: redis.port });
  links.push(p);
  cleanup.push(() => p.close());
  return p;
}

/** One instance: its own store on `url`, a breaker on it, and the store statuses it reported. */
async function instance(url: string, prefix: string, options: { commandTimeout?: number } = {}) {
  const store = new RedisStore({
    redis: url,
    prefix,
    quorum: 1,
    commandTimeout: options.commandTimeout ?? 5_000,
    retryInterval: 100,
    logger: { warn: () => undefined, log: () => undefined },
  });
  const breaker = new Breaker({
    name: 'quotes',
    store,
    failureThreshold: 5,
    openDuration: OPEN_MS,
  });
  cleanup.push(async () => {
    breaker.dispose();
    await store.close();
  });
  await eventually(() => expect(store.status).toBe('shared'), 10_000);
  const statuses: string[] = [];
  breaker.onStoreStatus((e) => statuses.push(e.status));
  return { store, breaker, statuses };
}

describe("one instance's link to Redis fails", () => {
  it('its own probe, running when Redis comes back, still closes its own circuit', async () => {
    const link = await proxy();
    const x = await instance(link.url, `link-a:${Date.now()}:`, { commandTimeout: 300 });
    // The link stalls: the failure's record times out, and X decides alone.
    link.hold();
    await outcome(x.breaker.execute(() => Promise.reject(new Boom())));
    await eventually(() => expect(x.statuses).toEqual(['degraded']));
    for (let i = 0; i < 5; i++) await outcome(x.breaker.execute(() => Promise.reject(new Boom())));
    expect(x.breaker.state).toBe('OPEN');
    await eventually(() => expect(x.breaker.state).toBe('HALF_OPEN'));
    const probe = deferred<string>();
    const probed = outcome(x.breaker.execute(() => probe.promise));

    // Redis is back while the probe runs. Nothing happened to the fleet meanwhile: X's own
    // circuit keeps deciding (it saw the failures) until it closes.
    link.release();
    await eventually(() => expect(x.statuses).toEqual(['degraded', 'shared']), 10_000);
    expect(x.breaker.state).toBe('HALF_OPEN');
    probe.resolve('recovered');
    expect(await probed).toEqual({ ok: true, value: 'recovered' });
    await eventually(() => expect(x.breaker.state).toBe('CLOSED'));
    expect(await x.breaker.execute(async () => 'served')).toBe('served');
  }, 30_000);

  it.each(['while it is still away', 'once it is back'])(
    "a fleet probe whose instance lost Redis during it settles the fleet's lease (probe ends %s)",
    async (when) => {
      const link = await proxy();
      const prefix = `link-b:${Date.now()}:`;
      const x = await instance(link.url, prefix);
      const y = await instance(redis.url, prefix);
      for (let i = 0; i < 5; i++)
        await outcome(y.breaker.execute(() => Promise.reject(new Boom())));
      await eventually(() => expect(x.breaker.state).toBe('OPEN'));
      await eventually(() => expect(x.breaker.state).toBe('HALF_OPEN'));

      // X takes the fleet's one probe lease; Y is refused without calling.
      const probe = deferred<string>();
      let reached = false;
      const probed = outcome(
        x.breaker.execute(() => {
          reached = true;
          return probe.promise;
        }),
      );
      await eventually(() => expect(reached).toBe(true));
      await eventually(async () => {
        let called = false;
        const r = await outcome(
          y.breaker.execute(async () => {
            called = true;
          }),
        );
        expect(called).toBe(false);
        expect(!r.ok && isCircuitOpenError(r.error)).toBe(true);
        expect(y.breaker.state).toBe('HALF_OPEN');
      });

      // X's connections drop while its probe runs.
      if (when === 'while it is still away') link.hold();
      link.cut();
      await eventually(() => expect(x.statuses).toEqual(['degraded']));
      if (when === 'once it is back') {
        await eventually(() => expect(x.statuses).toEqual(['degraded', 'shared']), 10_000);
      }
      probe.resolve('recovered');
      expect(await probed).toEqual({ ok: true, value: 'recovered' });
      link.release();
      await eventually(() => expect(x.statuses).toEqual(['degraded', 'shared']), 10_000);

      // The probe succeeded: the fleet closes, and Y serves again (long before probeExpiry).
      await eventually(() => expect(y.breaker.state).toBe('CLOSED'), 10_000);
      expect(await y.breaker.execute(async () => 'served')).toBe('served');
      expect(y.statuses).toEqual([]);
    },
    30_000,
  );

  it('after Redis answered late once, a failure still holds the next admission until Redis has counted it', async () => {
    const link = await proxy();
    const x = await instance(link.url, `link-c:${Date.now()}:`, { commandTimeout: 300 });
    // A failure's record times out on a stalled link; X degrades, then re-synchronises.
    link.hold();
    await outcome(x.breaker.execute(() => Promise.reject(new Boom())));
    await eventually(() => expect(x.statuses).toEqual(['degraded']));
    link.release();
    await eventually(() => expect(x.statuses).toEqual(['degraded', 'shared']), 10_000);

    // Shared again. The link stalls again; a failure's record is on its way: the next call waits
    // for Redis's answer (here: the timeout, which degrades the store) before it is admitted.
    link.hold();
    const order: string[] = [];
    x.breaker.onStoreStatus((e) => order.push(`store ${e.status}`));
    await outcome(x.breaker.execute(() => Promise.reject(new Boom())));
    await outcome(
      x.breaker.execute(async () => {
        order.push('next call admitted');
      }),
    );
    expect(order).toEqual(['store degraded', 'next call admitted']);
    link.release();
    await eventually(() => expect(x.store.status).toBe('shared'), 10_000);
  }, 30_000);

  it('close() answers while the link is stalled (it does not wait for a Redis that does not answer)', async () => {
    const link = await proxy();
    const x = await instance(link.url, `link-d:${Date.now()}:`, { commandTimeout: 300 });
    link.hold();
    await x.store.close();
    expect(x.store.status).toBe('closed');
  }, 30_000);

  it('a probe lease that Redis grants after its request timed out is released once Redis is back', async () => {
    const link = await proxy();
    const prefix = `link-e:${Date.now()}:`;
    const x = await instance(link.url, prefix, { commandTimeout: 300 });
    const y = await instance(redis.url, prefix);
    for (let i = 0; i < 5; i++) await outcome(y.breaker.execute(() => Promise.reject(new Boom())));
    await eventually(() => expect(x.breaker.state).toBe('OPEN'));
    // Let X's copy of the open period run out without reading X's state (a read asks Redis).
    const heard = Date.now();
    await eventually(() => expect(Date.now()).toBeGreaterThan(heard + OPEN_MS));

    // X's call needs a probe lease, and the link stalls: the request times out, X decides alone.
    link.hold();
    expect(await outcome(x.breaker.execute(async () => 'own probe'))).toEqual({
      ok: true,
      value: 'own probe',
    });
    expect(x.statuses).toEqual(['degraded']);
    // The held request reaches Redis now, which grants the fleet's one lease to nobody.
    link.release();
    await eventually(() => expect(x.statuses).toEqual(['degraded', 'shared']), 10_000);

    // X is back: the lease is released, so X's next call can take it, probe, and close the fleet.
    await eventually(async () => {
      await outcome(x.breaker.execute(async () => 'fleet probe'));
      expect(x.breaker.state).toBe('CLOSED');
    }, 10_000);
    await eventually(() => expect(y.breaker.state).toBe('CLOSED'));
    expect(y.statuses).toEqual([]);
  }, 30_000);
});
