/**
 * Redis failing is a normal condition. With a real redis-server, stopped, paused and unreachable:
 * every breaker falls back to its own circuit (on the lost connection, or the command that took
 * longer than commandTimeout), the store logs once and reports it (a `storeStatus` event,
 * `stats().store`), every call still gets an answer (none lost, none hung), nothing is rejected
 * unhandled, and sharing resumes when Redis is back. The tests assert what caused the fallback and
 * in which order things happened, never how long they took; deadlines are hang guards.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Breaker, type StoreStatusEvent } from '../../lib/core/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { Boom, outcome } from '../core/helpers/async.js';
import { eventually } from '../core/helpers/eventually.js';
import { freePort, startRedis, type TestRedis } from './helpers/redis-server.js';

let redis: TestRedis;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
const cleanup: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  redis = await startRedis();
}, 30_000);

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  expect(unhandled).toEqual([]);
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await redis?.stop();
});

async function ping(): Promise<boolean> {
  const client = redis.client();
  try {
    return (
      (await Promise.race([
        client.ping(),
        new Promise((r) => setTimeout(() => r('timeout'), 500)),
      ])) === 'PONG'
    );
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** How a connection lost reads in ioredis's and the store's errors. */
const CONNECTION_LOST =
  /closed|ECONNRESET|ECONNREFUSED|EPIPE|Connection is closed|Stream isn't writeable/i;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function statusNames(statuses: ReadonlyArray<StoreStatusEvent>): string[] {
  return statuses.map((s) => s.status);
}

/** One instance: a store, a breaker on it, and what it logged and reported. */
async function instance(url: string, name: string, prefix: string, waitShared = true) {
  const logs: Array<['warn' | 'log', string]> = [];
  const store = new RedisStore({
    redis: url,
    prefix,
    quorum: 1,
    commandTimeout: 300,
    retryInterval: 200,
    logger: { warn: (m) => logs.push(['warn', m]), log: (m) => logs.push(['log', m]) },
  });
  const breaker = new Breaker({ name, store, failureThreshold: 5, openDuration: 60_000 });
  const statuses: StoreStatusEvent[] = [];
  breaker.onStoreStatus((e) => statuses.push(e));
  cleanup.push(async () => {
    breaker.dispose();
    await store.close();
  });
  if (waitShared) {
    await eventually(() => expect(store.status).toBe('shared'), 10_000);
    // What happens from here on is what the tests look at (connecting also reported `shared`).
    await eventually(() => expect(statuses.map((s) => s.status)).toEqual(['shared']));
    statuses.length = 0;
  }
  return { store, breaker, logs, statuses };
}

/** Keeps calling a healthy dependency through `breakers` until stopped; counts every answer. */
function load(breakers: Breaker[]) {
  let running = true;
  const tally = { started: 0, ok: 0, other: [] as unknown[] };
  const stop = async () => {
    running = false;
    await Promise.all(loops);
  };
  cleanup.push(stop);
  const loops = breakers.map(async (b) => {
    while (running) {
      tally.started++;
      const r = await outcome(b.execute(async () => 'ok'));
      if (r.ok) tally.ok++;
      else tally.other.push(r.error);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  });
  return { tally, stop };
}

describe('Redis faults', () => {
  it('Redis stopped mid-load and restarted: local decisions on the lost connection, logged once, nothing lost, shared again after', async () => {
    if (!redis.owned) return expect(redis.owned).toBe(false); // an external REDIS_URL cannot be stopped
    const prefix = `faults-a:${Date.now()}:`;
    const a = await instance(redis.url, 'payments', prefix);
    const b = await instance(redis.url, 'payments', prefix);
    const traffic = load([a.breaker, b.breaker]);
    await eventually(() => expect(traffic.tally.ok).toBeGreaterThan(200));

    cleanup.push(async () => {
      if (!(await ping())) await redis.restart();
    });
    await redis.stop();
    await eventually(() => {
      for (const x of [a, b]) {
        expect(x.statuses.map((s) => s.status)).toEqual(['degraded']);
        expect(x.breaker.stats().store).toBe('degraded');
      }
    });
    // The lost connection is what made them fall back (not, say, a timer).
    for (const x of [a, b]) expect(messageOf(x.statuses[0]!.error)).toMatch(CONNECTION_LOST);
    const during = traffic.tally.ok;
    await eventually(() => expect(traffic.tally.ok).toBeGreaterThan(during + 200));

    // Each instance decides alone now: its own failures open its own circuit.
    for (let i = 0; i < 5; i++) await outcome(a.breaker.execute(() => Promise.reject(new Boom())));
    expect(a.breaker.state).toBe('OPEN');
    expect(b.breaker.state).toBe('CLOSED');
    a.breaker.reset();

    await redis.restart();
    await eventually(() => {
      for (const x of [a, b])
        expect(x.statuses.map((s) => s.status)).toEqual(['degraded', 'shared']);
    }, 10_000);
    await traffic.stop();
    expect(traffic.tally.other).toEqual([]);
    expect(traffic.tally.ok).toBe(traffic.tally.started);
    for (const x of [a, b]) {
      expect(x.logs.map(([level]) => level)).toEqual(['warn', 'log']);
      expect(x.logs[0]![1]).toContain('breakers decide locally until it is back');
    }

    // Shared again: one instance's failures open the other's circuit. (Had either store lost
    // Redis once more, the statuses would say so: it would then decide alone, as documented.)
    for (let i = 0; i < 5; i++) await outcome(a.breaker.execute(() => Promise.reject(new Boom())));
    await eventually(() =>
      expect({ b: b.breaker.state, statuses: [a.statuses, b.statuses].map(statusNames) }).toEqual({
        b: 'OPEN',
        statuses: [
          ['degraded', 'shared'],
          ['degraded', 'shared'],
        ],
      }),
    );
  }, 60_000);

  it('Redis paused (CLIENT PAUSE): slow is unavailable too; calls keep flowing, then sharing resumes', async () => {
    const prefix = `faults-b:${Date.now()}:`;
    const a = await instance(redis.url, 'search', prefix);
    const traffic = load([a.breaker]);
    await eventually(() => expect(traffic.tally.ok).toBeGreaterThan(100));
    // Outcomes keep going to Redis, so a paused Redis is noticed by the next batch's timeout.
    const admin = redis.client();
    await admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
    await eventually(() => expect(a.statuses.map((s) => s.status)).toEqual(['degraded']));
    // A command slower than commandTimeout is what made it fall back.
    expect(messageOf(a.statuses[0]!.error)).toMatch(/timed out/i);
    const during = traffic.tally.ok;
    await eventually(() => expect(traffic.tally.ok).toBeGreaterThan(during + 100));
    await eventually(
      () => expect(a.statuses.map((s) => s.status)).toEqual(['degraded', 'shared']),
      10_000,
    );
    await traffic.stop();
    expect(traffic.tally.other).toEqual([]);
    expect(traffic.tally.ok).toBe(traffic.tally.started);
    expect(a.logs.map(([level]) => level)).toEqual(['warn', 'log']);
  }, 60_000);

  it('losing Redis during an outage keeps the circuit open locally; a probe lease asked of a paused Redis is answered, not hung', async () => {
    const prefix = `faults-c:${Date.now()}:`;
    const logs: string[] = [];
    const store = new RedisStore({
      redis: redis.url,
      prefix,
      quorum: 1,
      commandTimeout: 300,
      retryInterval: 200,
      logger: { warn: (m) => logs.push(m), log: (m) => logs.push(m) },
    });
    const breaker = new Breaker({ name: 'ledger', store, failureThreshold: 5, openDuration: 300 });
    cleanup.push(async () => {
      breaker.dispose();
      await store.close();
    });
    await eventually(() => expect(store.status).toBe('shared'), 10_000);
    for (let i = 0; i < 5; i++) await outcome(breaker.execute(() => Promise.reject(new Boom())));
    await eventually(() => expect(breaker.state).toBe('OPEN'));

    // Redis freezes while the circuit is open: the instance goes on refusing, on its own.
    const admin = redis.client();
    await admin.call('CLIENT', 'PAUSE', '2000', 'ALL');
    let called = false;
    const first = await outcome(
      breaker.execute(async () => {
        called = true;
      }),
    );
    expect(!first.ok && (first.error as Error).name).toBe('CircuitOpenError');
    expect(called).toBe(false);
    // Once the open period is over, the next call needs Redis (a state read, or a probe lease)
    // from the frozen Redis: the request times out (commandTimeout), the instance decides alone (a
    // local probe) and answers. The call is answered, and only after the store gave up on Redis.
    const order: string[] = [];
    breaker.onStoreStatus((e) => order.push(`store ${e.status}: ${messageOf(e.error)}`));
    await eventually(() => expect(breaker.stats().retryAfter).toBe(0), 5_000);
    const probe = await outcome(breaker.execute(async () => 'answered'));
    order.push('probe answered');
    expect(probe).toEqual({ ok: true, value: 'answered' });
    expect(order).toEqual([
      expect.stringMatching(/^store degraded: .*timed out/i),
      'probe answered',
    ]);
    expect(breaker.stats().store).toBe('degraded');
    expect(breaker.state).toBe('CLOSED');
    await eventually(() => expect(store.status).toBe('shared'), 10_000);
    expect(logs).toHaveLength(2);
  }, 60_000);

  it('nothing listening on connect: degraded, logged once, every call answered locally, close() is clean', async () => {
    const port = await freePort();
    const a = await instance(
      `redis://127.0.0.1:${port}`,
      'nowhere',
      `faults-d:${Date.now()}:`,
      false,
    );
    await eventually(() => expect(a.store.status).toBe('degraded'), 5_000);
    expect(a.logs.filter(([level]) => level === 'warn')).toHaveLength(1);
    expect(a.logs[0]![1]).toContain('could not reach Redis');
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => a.breaker.execute(async () => i)),
    );
    expect(results).toHaveLength(100);
    for (let i = 0; i < 5; i++) await outcome(a.breaker.execute(() => Promise.reject(new Boom())));
    expect(a.breaker.state).toBe('OPEN');
    expect(a.breaker.stats().store).toBe('degraded');
  }, 30_000);
});
