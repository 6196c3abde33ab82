/**
 * What a store sends to a Redis that stops reading, and what it sends at all. A store talks to a
 * real redis-server through a TCP proxy that counts commands and answers on every connection
 * (helpers/proxy.ts), so "unanswered" is counted where the bytes go, not by the store itself:
 *
 * - frozen (SIGSTOP) under load: never more than `maxInFlight` commands unanswered; every call
 *   answered; outcome counters add up; after SIGCONT the store shares again on Redis's first
 *   answer, not on its retry timer (here ten minutes, far beyond every deadline);
 * - a batch that waits for a slot gathers its breaker's outcomes, keeps every failure and drops
 *   (counting them) the successes beyond a full batch;
 * - the configuration travels to Redis only when Redis asks for it: at creation, and after Redis
 *   lost it (keys deleted, or only its fields); a flushed script cache is loaded again, shared
 *   throughout.
 *
 * Waits are on conditions, with deadlines only as hang guards; nothing asserts a duration.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Breaker, BreakerOptionsError, type StoreStatusEvent } from '../../lib/core/index.js';
import { RedisStore, type RedisStoreStats } from '../../lib/redis/index.js';
import { Boom, outcome } from '../core/helpers/async.js';
import { eventually } from '../core/helpers/eventually.js';
import { type RedisProxy, startProxy } from './helpers/proxy.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';

let redis: TestRedis;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
const cleanup: Array<() => Promise<void> | void> = [];
const silent = { warn: () => undefined, log: () => undefined };

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

async function proxy(): Promise<RedisProxy> {
  const p = await startProxy({ port: redis.port });
  cleanup.push(() => p.close());
  return p;
}

function store(
  url: string,
  prefix: string,
  options: Partial<ConstructorParameters<typeof RedisStore>[0]> = {},
) {
  const s = new RedisStore({ redis: url, prefix, quorum: 1, logger: silent, ...options });
  cleanup.push(() => s.close());
  return s;
}

function breaker(options: ConstructorParameters<typeof Breaker>[0]) {
  const b = new Breaker(options);
  const statuses: StoreStatusEvent[] = [];
  b.onStoreStatus((e) => statuses.push(e));
  cleanup.push(() => b.dispose());
  return { breaker: b, statuses };
}

/** `queued = recorded + pending + every dropped count`. */
function addsUp(stats: RedisStoreStats): void {
  const o = stats.outcomes;
  const d = o.dropped;
  expect({ queued: o.queued }).toEqual({
    queued: o.recorded + o.pending + d.unavailable + d.mismatch + d.overflow + d.stale,
  });
}

/** Keeps calling a healthy dependency through `breakers`; counts every answer. */
function load(breakers: Breaker[]) {
  let running = true;
  const tally = { started: 0, ok: 0, other: [] as unknown[] };
  const loops = breakers.flatMap((b) =>
    [0, 1].map(async () => {
      while (running) {
        tally.started++;
        const r = await outcome(b.execute(async () => 'ok'));
        if (r.ok) tally.ok++;
        else tally.other.push(r.error);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }),
  );
  const stop = async () => {
    running = false;
    await Promise.all(loops);
  };
  cleanup.push(stop);
  return { tally, stop };
}

describe('a Redis that stops reading', () => {
  it('frozen under load: at most maxInFlight commands unanswered, every call answered, counters add up; shared again on its first answer after SIGCONT', async () => {
    const MAX = 4;
    const link = await proxy();
    const s = store(link.url, `backlog-a:${Date.now()}:`, {
      maxInFlight: MAX,
      commandTimeout: 300,
      // Far beyond every deadline below: only Redis's own answers can end the outage.
      retryInterval: 600_000,
    });
    const a = breaker({ name: 'payments', store: s });
    const b = breaker({ name: 'ledger', store: s, policy: 'count-window' });
    await eventually(() => expect(s.status).toBe('shared'), 10_000);
    await eventually(() => {
      for (const x of [a, b]) expect(x.statuses.map((e) => e.status)).toEqual(['shared']);
    });
    for (const x of [a, b]) x.statuses.length = 0;
    const traffic = load([a.breaker, b.breaker]);
    await eventually(() => expect(traffic.tally.ok).toBeGreaterThan(500));

    // The most unanswered at once, checked on every event-loop turn from the freeze on.
    let unanswered = 0;
    let inFlight = 0;
    let sampling = true;
    cleanup.push(() => {
      sampling = false;
    });
    const sampler = (async () => {
      while (sampling) {
        unanswered = Math.max(unanswered, link.unanswered());
        inFlight = Math.max(inFlight, s.stats().inFlight);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    })();
    const freeze = () => (redis.owned ? redis.pause() : link.hold());
    const thaw = () => (redis.owned ? redis.resume() : link.release());
    freeze();
    cleanup.push(thaw);
    const last = (x: { statuses: StoreStatusEvent[] }) => x.statuses.at(-1)?.status;
    try {
      await eventually(() => {
        expect(s.status).toBe('degraded');
        for (const x of [a, b]) expect(last(x)).toBe('degraded');
      }, 10_000);
      // A command slower than commandTimeout is what made it fall back. (On a busy machine the
      // store can lose Redis more than once around the freeze: statuses then alternate. Hence
      // "last", and the check of the order below.)
      expect(String(a.statuses[0]!.error)).toMatch(/timed out/);
      // Calls keep flowing, decided locally, while Redis stays frozen.
      const during = traffic.tally.ok;
      await eventually(() => expect(traffic.tally.ok).toBeGreaterThan(during + 2_000), 10_000);
    } finally {
      thaw();
    }
    await eventually(() => {
      expect(s.status).toBe('shared');
      for (const x of [a, b]) expect(last(x)).toBe('shared');
    }, 20_000);
    for (const x of [a, b]) {
      const names = x.statuses.map((e) => e.status);
      expect(names.filter((n, i) => n !== (i % 2 === 0 ? 'degraded' : 'shared'))).toEqual([]);
    }
    sampling = false;
    await sampler;

    expect(unanswered).toBeGreaterThan(0);
    expect(unanswered).toBeLessThanOrEqual(MAX);
    expect(inFlight).toBeLessThanOrEqual(MAX);
    expect(s.stats().peakInFlight).toBeLessThanOrEqual(MAX);
    await traffic.stop();
    expect(traffic.tally.other).toEqual([]);
    expect(traffic.tally.ok).toBe(traffic.tally.started);
    await eventually(() => expect(s.stats().outcomes.pending).toBe(0), 10_000);
    const stats = s.stats();
    addsUp(stats);
    // What the outage cost is counted, not hidden.
    expect(stats.outcomes.dropped.unavailable).toBeGreaterThan(0);
    expect(stats.outcomes.recorded).toBeGreaterThan(0);
  }, 60_000);

  it('a batch waiting for a slot keeps every failure and drops, counted, the successes beyond a full batch', async () => {
    const link = await proxy();
    const prefix = `backlog-b:${Date.now()}:`;
    const s = store(link.url, prefix, { maxInFlight: 1, commandTimeout: 10_000 });
    // A window that never trips here: every outcome recorded is in it.
    const { breaker: b, statuses } = breaker({
      name: 'quotes',
      store: s,
      policy: 'count-window',
      windowSize: 5_000,
      minimumCalls: 5_000,
      failureRateThreshold: 1,
    });
    await eventually(() => expect(s.status).toBe('shared'), 10_000);
    await b.execute(async () => 'first');
    await eventually(() => expect(s.stats().outcomes.recorded).toBe(1), 10_000);

    // Redis stops answering this store: one record goes, and takes the one slot.
    link.hold();
    await b.execute(async () => 'in flight');
    await eventually(() => expect(s.stats().inFlight).toBe(1));
    for (let i = 0; i < 2_000; i++) await b.execute(async () => 'waits');
    const failed = await Promise.all(
      [0, 1, 2].map(() => outcome(b.execute(() => Promise.reject(new Boom())))),
    );
    expect(failed.map((r) => r.ok)).toEqual([false, false, false]);
    const waiting = s.stats().outcomes;
    expect(waiting.dropped.overflow).toBeGreaterThan(0);

    link.release();
    await eventually(() => {
      expect(s.stats().outcomes.pending).toBe(0);
      expect(s.stats().inFlight).toBe(0);
    }, 10_000);
    const stats = s.stats();
    addsUp(stats);
    expect(stats.outcomes.queued).toBe(1 + 1 + 2_000 + 3);
    expect(stats.outcomes.dropped).toEqual({
      unavailable: 0,
      mismatch: 0,
      overflow: waiting.dropped.overflow,
      stale: 0,
    });
    // Redis's window has every outcome recorded, and all three failures.
    const client = redis.client();
    const [wn, wf] = await client.hmget(`${prefix}{quotes}`, 'wn', 'wf');
    expect({ wn: Number(wn), wf: Number(wf) }).toEqual({ wn: stats.outcomes.recorded, wf: 3 });
    // Shared throughout (the one status is the store's connecting).
    expect(statuses.map((e) => e.status)).toEqual(['shared']);
  }, 30_000);
});

describe('what a store sends', () => {
  it('the configuration only when Redis asks for it (created, lost, fields deleted); a flushed script cache is loaded again; shared throughout', async () => {
    const prefix = `backlog-c:${Date.now()}:`;
    const key = `${prefix}{orders}`;
    const monitor = await redis.client().monitor();
    /** Script calls the store made, and those of them that carried the configuration. */
    const seen = { scripts: 0, withConfig: 0 };
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source === 'lua' || !/^eval(sha)?$/i.test(args[0] ?? '')) return;
      if (!args.some((a) => a.includes(prefix))) return;
      seen.scripts++;
      if (args.some((a) => a.startsWith('{"nm":"orders"'))) seen.withConfig++;
    });
    cleanup.push(() => void monitor.disconnect());
    const s = store(redis.url, prefix, { commandTimeout: 5_000 });
    const { breaker: b, statuses } = breaker({ name: 'orders', store: s, failureThreshold: 3 });
    await eventually(() => expect(s.status).toBe('shared'), 10_000);
    const traffic = load([b]);
    const admin = redis.client();
    const scriptsAfter = async (n: number) => {
      const target = seen.scripts + n;
      await eventually(() => expect(seen.scripts).toBeGreaterThan(target), 10_000);
    };

    /**
     * How many calls have carried the configuration, once the store has settled: it does not
     * change over 200 more script calls. (Every call in flight when Redis lost the configuration
     * is asked for it, so a loss can cost more than one.)
     */
    const settled = async () => {
      await scriptsAfter(50);
      const count = seen.withConfig;
      await scriptsAfter(200);
      expect(seen.withConfig).toBe(count);
      return count;
    };

    const created = await settled();
    expect(created).toBeGreaterThanOrEqual(1);
    await admin.script('FLUSH');
    expect(await settled()).toBe(created); // the scripts are sent again, not the configuration
    await admin.hdel(key, 'cf', 'cj');
    const fieldsLost = await settled();
    expect(fieldsLost).toBeGreaterThan(created);
    await admin.del(key, `${key}:leases`, `${key}:ring`, `${key}:buckets`, `${key}:sources`);
    expect(await settled()).toBeGreaterThan(fieldsLost);
    expect(await admin.hget(key, 'cf')).toMatch(/^[0-9a-f]{16}$/);

    await traffic.stop();
    expect(traffic.tally.other).toEqual([]);
    // Shared throughout (the one status is the store's connecting).
    expect(statuses.map((e) => e.status)).toEqual(['shared']);
    // Still one shared circuit: three failures here open it in Redis.
    for (let i = 0; i < 3; i++) await outcome(b.execute(() => Promise.reject(new Boom())));
    await eventually(async () => expect(await admin.hget(key, 's')).toBe('OPEN'), 10_000);
  }, 60_000);
});

describe('RedisStore options', () => {
  it.each([
    ['maxInFlight', 0, 'an integer >= 1'],
    ['maxInFlight', 2.5, 'an integer >= 1'],
    ['staleConfigAfter', -1, 'a finite number of milliseconds > 0'],
  ] as const)('%s: %p is refused, naming the option', (option, value, expected) => {
    let thrown: unknown;
    try {
      new RedisStore({ redis: redis.url, [option]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(BreakerOptionsError);
    expect((thrown as BreakerOptionsError).option).toBe(option);
    expect((thrown as Error).message).toContain(`must be ${expected}, received ${value}`);
  });
});
