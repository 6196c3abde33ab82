/**
 * Case 8: the CLOSED hot path through a `RedisStore` (quorum 1, other options default), against
 * the same breaker with its default in-memory state, in the same run and interleaved round by round
 * like case 1: `await breaker.execute(ok)` one call at a time (8a), and 100 in flight (8b).
 *
 * The Redis breaker admits from its local copy of the fleet's state and sends outcomes to Redis in
 * batches (one per event-loop turn, at most 500 outcomes each), so its hot path never waits for
 * Redis. Two figures for it:
 * - the hot path: the caller's loop alone, as for the in-memory breaker (the target is on this one);
 * - "until Redis has counted every outcome": the same loop plus the wait for Redis to have run the
 *   last batch. It includes Redis's own work, on the other core, for every outcome of the round.
 * Between rounds (untimed for the hot path) the bench waits until Redis has counted everything, so
 * that a backlog never carries over into the next round.
 *
 * The wait uses only public behaviour: after a failure, the store admits that breaker's next call
 * only once Redis has answered for the failure; the failure is sent on the store's one command
 * connection after every batch already sent, and Redis answers in order. So a failing call then a
 * passing call through a second breaker of the same store (which never opens) returns once Redis
 * has run every batch sent before it.
 *
 * So that the figure is not from degraded (local) mode, the case checks that every breaker stayed
 * `shared` and CLOSED in every round (no `storeStatus` or state-change event, `stats().store` and
 * `state` read after every round), that the circuit's hash in Redis still says CLOSED at the same
 * generation at the end, and that Redis ran scripts, at least one per measured round (its
 * `INFO commandstats`; outcomes are run-length encoded, so a round of successes is one script).
 *
 * Redis: a `redis-server` this process starts on a free loopback port (and stops) when the binary
 * is on the PATH, else the server `REDIS_URL` names; with neither, the case reports itself skipped.
 */
import type { Redis } from 'ioredis';
import { Breaker } from '../lib/core/index.js';
import { RedisStore } from '../lib/redis/index.js';
import { startBenchRedis } from './redis.js';
import {
  type CaseResult,
  type Check,
  type Contender,
  type Measured,
  type Row,
  formatNs,
  formatRatio,
  interleave,
  max,
  median,
  min,
  tick,
} from './harness.js';
import { failing, ok } from './subjects.js';

const TITLE_SEQ = 'CLOSED hot path, Redis store vs in-memory, sequential: calls/s (ns per call)';
const TITLE_PAR = 'CLOSED hot path, Redis store vs in-memory, 100 in flight: calls/s (ns per call)';
const TARGET = 'Redis store CLOSED hot path ≥ 50% of in-memory calls/s';
const IN_FLIGHT = 100;
const NAME = 'bench-redis';
const PREFIX = `nestjs-circuit-breaker-bench:${process.pid}:`;

function skipped(reason: string): CaseResult {
  const row = (id: string, title: string): Row => ({
    id,
    title,
    subject: reason,
    median: '—',
    range: '—',
    ratio: '—',
  });
  return {
    rows: [row('8a', TITLE_SEQ), row('8b', TITLE_PAR)],
    checks: [{ target: TARGET, pass: undefined, skipped: true, detail: reason }],
  };
}

/** What can go wrong with the Redis breakers during the measurement, counted as it happens. */
interface Watch {
  storeEvents: number;
  stateChanges: number;
  /** Rounds after which a breaker did not read `shared` and CLOSED. */
  badRounds: number;
  breakers: number;
}

/** Script calls Redis has run so far (the store's scripts run with EVALSHA, or EVAL at first). */
async function scriptCalls(client: Redis): Promise<number> {
  const info = await client.info('commandstats');
  let calls = 0;
  for (const match of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) {
    calls += Number(match[1]);
  }
  return calls;
}

export async function runRedisStore(scale: number): Promise<CaseResult> {
  const redis = await startBenchRedis();
  if ('skipped' in redis) return skipped(redis.skipped);
  const client = redis.client();
  const store = new RedisStore({ redis: redis.url, quorum: 1, prefix: PREFIX });
  let reached = false;
  try {
    const deadline = Date.now() + 5_000;
    while (store.status !== 'shared' && Date.now() < deadline) await tick();
    if (store.status !== 'shared') {
      return skipped(`skipped: Redis at ${redis.url} did not answer (store ${store.status})`);
    }
    reached = true;
    return await measure(scale, store, client);
  } finally {
    await store.close();
    // Someone else's Redis: leave nothing behind.
    if (!redis.owned && reached) {
      await client.del(...(await client.keys(`${PREFIX}*`)), `${PREFIX}none`);
    }
    await redis.stop();
  }
}

async function measure(scale: number, store: RedisStore, client: Redis): Promise<CaseResult> {
  const watch: Watch = { storeEvents: 0, stateChanges: 0, badRounds: 0, breakers: 0 };

  // The barrier (see the file's comment): never opens, so its failures only count.
  const barrier = new Breaker({
    name: `${NAME}-barrier`,
    store,
    failureThreshold: Number.MAX_SAFE_INTEGER,
  });
  /** Resolves once Redis has run every batch sent so far. */
  const redisCaughtUp = async (): Promise<void> => {
    await tick(); // a batch still queued for this turn goes first
    await barrier.execute(failing).catch(() => undefined);
    await barrier.execute(ok);
  };
  await redisCaughtUp();

  const fresh = async (): Promise<Breaker> => {
    const breaker = new Breaker({ name: NAME, store });
    watch.breakers++;
    breaker.onStoreStatus(() => watch.storeEvents++);
    breaker.onStateChange(() => watch.stateChanges++);
    // Lets the new breaker read the fleet's state from Redis before it is measured.
    await redisCaughtUp();
    return breaker;
  };
  const retire = async (breaker: Breaker): Promise<void> => {
    if (breaker.stats().store !== 'shared' || breaker.state !== 'CLOSED') watch.badRounds++;
    await redisCaughtUp();
    breaker.dispose();
  };

  const hashKey = `${PREFIX}{${NAME}}`;
  // Creates the circuit in Redis, then notes where it stands.
  await retire(await fresh());
  const before = await client.hmget(hashKey, 's', 'g');
  const scriptsBefore = await scriptCalls(client);

  const inMemory = (config: string, loop: (b: Breaker, n: number) => Promise<void>): Contender => ({
    library: 'in-memory',
    config,
    setup: () => {
      const breaker = new Breaker({ name: NAME });
      return { run: (n) => loop(breaker, n), dispose: () => breaker.dispose() };
    },
  });
  const hotPath = (loop: (b: Breaker, n: number) => Promise<void>): Contender => ({
    library: 'RedisStore',
    config: 'quorum 1',
    setup: async () => {
      const breaker = await fresh();
      return { run: (n) => loop(breaker, n), dispose: () => retire(breaker) };
    },
  });
  const counted = (loop: (b: Breaker, n: number) => Promise<void>): Contender => ({
    library: 'RedisStore',
    config: 'quorum 1, until Redis has counted every outcome',
    setup: async () => {
      const breaker = await fresh();
      return {
        run: async (n) => {
          await loop(breaker, n);
          await redisCaughtUp();
        },
        dispose: () => retire(breaker),
      };
    },
  });

  // Each loop is its own function literal (see case 1): shared loops would share type feedback.
  const rounds = Math.max(5, Math.round(50 * scale));
  const seq = await interleave({
    rounds,
    warmup: 3,
    ops: 20_000,
    raw: inMemory('default', async (breaker, n) => {
      for (let i = 0; i < n; i++) await breaker.execute(ok);
    }),
    contenders: [
      hotPath(async (breaker, n) => {
        for (let i = 0; i < n; i++) await breaker.execute(ok);
      }),
      counted(async (breaker, n) => {
        for (let i = 0; i < n; i++) await breaker.execute(ok);
      }),
    ],
  });
  const par = await interleave({
    rounds,
    warmup: 3,
    ops: 200,
    callsPerOp: IN_FLIGHT,
    raw: inMemory('default', async (breaker, n) => {
      const calls = new Array<Promise<number>>(IN_FLIGHT);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < IN_FLIGHT; j++) calls[j] = breaker.execute(ok);
        await Promise.all(calls);
      }
    }),
    contenders: [
      hotPath(async (breaker, n) => {
        const calls = new Array<Promise<number>>(IN_FLIGHT);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < IN_FLIGHT; j++) calls[j] = breaker.execute(ok);
          await Promise.all(calls);
        }
      }),
      counted(async (breaker, n) => {
        const calls = new Array<Promise<number>>(IN_FLIGHT);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < IN_FLIGHT; j++) calls[j] = breaker.execute(ok);
          await Promise.all(calls);
        }
      }),
    ],
  });

  await redisCaughtUp();
  const after = await client.hmget(hashKey, 's', 'g');
  const scripts = (await scriptCalls(client)) - scriptsBefore;
  barrier.dispose();

  // Rounds through Redis, warm-up included: (rounds + 3) for 8a and for 8b, 2 Redis contenders each.
  const redisRounds = (rounds + 3) * 2 * 2;
  const redisCalls = redisRounds * 20_000;
  const problems: string[] = [];
  if (watch.storeEvents > 0) problems.push(`${watch.storeEvents} storeStatus events`);
  if (watch.stateChanges > 0) problems.push(`${watch.stateChanges} state changes`);
  if (watch.badRounds > 0) problems.push(`${watch.badRounds} rounds not shared and CLOSED`);
  if (store.status !== 'shared') problems.push(`store ${store.status}`);
  if (after[0] !== 'CLOSED' || after[1] !== before[1]) {
    problems.push(`circuit in Redis went from ${before.join('@')} to ${after.join('@')}`);
  }
  if (scripts < redisRounds) {
    problems.push(`Redis ran ${scripts} scripts in ${redisRounds} rounds`);
  }
  const verified =
    problems.length === 0
      ? `shared and CLOSED throughout (${watch.breakers} breakers, circuit at generation ` +
        `${after[1]} in Redis before and after; Redis ran ${scripts} scripts for ${redisCalls} ` +
        `calls in ${redisRounds} rounds)`
      : `NOT verified: ${problems.join(', ')}`;

  const seqRatio = callsRatio(seq.results[0]!);
  const parRatio = callsRatio(par.results[0]!);
  const checks: Check[] = [
    {
      target: TARGET,
      pass: problems.length === 0 && seqRatio >= 0.5 && parRatio >= 0.5,
      detail:
        `sequential ${percent(seqRatio)}, 100 in flight ${percent(parRatio)} ` +
        `(until Redis has counted every outcome: ${percent(callsRatio(seq.results[1]!))}, ` +
        `${percent(callsRatio(par.results[1]!))}); ${verified}`,
    },
  ];
  return {
    rows: [
      ...callsRows('8a', TITLE_SEQ, seq.raw, seq.results),
      ...callsRows('8b', TITLE_PAR, par.raw, par.results),
    ],
    checks,
  };
}

/** The median over rounds of calls/s relative to the in-memory breaker of the same round. */
function callsRatio(m: Measured): number {
  return median(m.ratios.map((r) => 1 / r));
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(0)}%`;
}

function callsPerSecond(ns: number): string {
  const perSecond = 1e9 / ns;
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)}M` : `${(perSecond / 1e3).toFixed(0)}k`;
}

function callsRows(id: string, title: string, raw: Measured, results: readonly Measured[]): Row[] {
  const row = (m: Measured, isRaw: boolean): Row => ({
    id,
    title,
    subject: `${m.contender.library} (${m.contender.config})`,
    median: `${callsPerSecond(median(m.perCall))} calls/s (${formatNs(median(m.perCall))})`,
    range: `${callsPerSecond(max(m.perCall))} – ${callsPerSecond(min(m.perCall))} calls/s`,
    ratio: isRaw ? '1.00x' : formatRatio(callsRatio(m)),
  });
  return [row(raw, true), ...results.map((m) => row(m, false))];
}
