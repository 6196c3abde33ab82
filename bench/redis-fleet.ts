/**
 * Case 9: how soon, after a fleet-wide trip, every instance refuses. Four processes (bench/
 * redis-fleet-worker.ts) share one breaker through a `RedisStore` (quorum 1, the other store
 * options default), each with three callers calling an in-process dependency (1 ms a call) in a
 * loop. Each round the dependency of every instance goes down; the instance whose failure trips
 * the circuit in Redis opens first (the script's answer), the others when Redis's pub/sub message
 * reaches them. Every instance stamps its OPEN transition on the clock the host's processes share
 * (`performance.timeOrigin + performance.now()`); the round's figure is the last stamp minus the
 * first. Then the dependency comes back, one instance resets the circuit (fleet-wide), and every
 * instance reports CLOSED before the next round.
 *
 * This is the figure the test suite no longer asserts (test/redis/fleet.spec.ts asserts only
 * counts, orders and states). Reported: median, p99 (nearest rank) and max over the rounds, warm-up
 * rounds excluded. A round in which a store lost Redis (a `storeStatus` event) is counted and
 * reported, not hidden: the figure is then NOT verified.
 *
 * Redis: as case 8 (a `redis-server` this process starts, else `REDIS_URL`; with neither, skipped).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startBenchRedis } from './redis.js';
import { type CaseResult, type Check, type Row, max, median, min, tick } from './harness.js';

const TITLE = 'Redis fleet of 4 processes: from the trip until every instance refuses';
const TARGET = 'Redis fleet: every instance refuses within 100 ms of the trip (p99)';
const INSTANCES = 4;
const CLIENTS = 3;
const THRESHOLD = 5;
const WARMUP = 2;
/** A hang guard for each wait on the fleet; a round that needs it is reported lost. */
const GUARD_MS = 15_000;

interface Message {
  type: string;
  pid: number;
  to?: string;
  at?: number;
  status?: string;
}

function skipped(reason: string): CaseResult {
  return {
    rows: [{ id: '9', title: TITLE, subject: reason, median: '—', range: '—', ratio: '—' }],
    checks: [{ target: TARGET, pass: undefined, skipped: true, detail: reason }],
  };
}

/** Resolves once `condition` holds, checking on every event-loop turn; rejects after GUARD_MS. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + GUARD_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`case 9: timed out waiting for ${what}`);
    await tick();
  }
}

export async function runRedisFleet(scale: number): Promise<CaseResult> {
  const redis = await startBenchRedis();
  if ('skipped' in redis) return skipped(redis.skipped);
  const prefix = `nestjs-circuit-breaker-bench-fleet:${process.pid}:`;
  const workers: ChildProcess[] = [];
  const messages: Message[] = [];
  const ready = new Set<number>();
  let degraded = 0;
  const exits: Array<Promise<unknown>> = [];
  try {
    for (let i = 0; i < INSTANCES; i++) {
      const child = fork(fileURLToPath(new URL('./redis-fleet-worker.js', import.meta.url)), {
        env: {
          ...process.env,
          REDIS_URL: redis.url,
          PREFIX: prefix,
          THRESHOLD: String(THRESHOLD),
          CLIENTS: String(CLIENTS),
        },
        execArgv: [],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      exits.push(new Promise((resolve) => child.once('exit', resolve)));
      child.on('message', (m: Message) => {
        if (m.type === 'ready') ready.add(m.pid);
        else if (m.type === 'status' && m.status === 'degraded') degraded++;
        else messages.push(m);
      });
      workers.push(child);
    }
    try {
      await until(() => ready.size === INSTANCES, 'every instance to share the breaker');
    } catch {
      return skipped(`skipped: the instances did not reach Redis at ${redis.url}`);
    }
    const send = (type: string, to: readonly ChildProcess[] = workers) =>
      to.forEach((w) => w.send({ type }));
    /** The instances that reported `type` (and `to`, for transitions) since message `from`. */
    const reported = (from: number, type: string, to?: string) =>
      messages.slice(from).filter((m) => m.type === type && (to === undefined || m.to === to));

    const rounds = Math.max(10, Math.round(100 * scale));
    const spreads: number[] = [];
    let degradedRounds = 0;
    for (let round = 0; round < WARMUP + rounds; round++) {
      const degradedBefore = degraded;
      const start = messages.length;
      send('fail');
      await until(
        () => new Set(reported(start, 'transition', 'OPEN').map((m) => m.pid)).size === INSTANCES,
        'every instance to open',
      );
      const firstOpen = new Map<number, number>();
      for (const m of reported(start, 'transition', 'OPEN')) {
        if (!firstOpen.has(m.pid)) firstOpen.set(m.pid, m.at!);
      }
      const stamps = [...firstOpen.values()];
      const spread = max(stamps) - min(stamps);

      const healing = messages.length;
      send('heal');
      await until(() => reported(healing, 'healed').length === INSTANCES, 'every instance healed');
      const resetting = messages.length;
      send('reset', [workers[0]!]);
      await until(
        () =>
          new Set(reported(resetting, 'transition', 'CLOSED').map((m) => m.pid)).size === INSTANCES,
        'every instance to close',
      );
      if (round < WARMUP) continue;
      if (degraded !== degradedBefore) degradedRounds++;
      spreads.push(spread);
    }
    return result(spreads, degradedRounds, degraded);
  } finally {
    for (const w of workers) if (w.connected) w.send({ type: 'stop' });
    const stopped = Promise.all(exits);
    const guard = setTimeout(() => workers.forEach((w) => w.kill('SIGKILL')), GUARD_MS);
    await stopped;
    clearTimeout(guard);
    // Someone else's Redis: leave nothing behind (if it was reached at all).
    if (!redis.owned && ready.size === INSTANCES) {
      const client = redis.client();
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
    }
    await redis.stop();
  }
}

/** Nearest-rank percentile. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}

function result(spreads: readonly number[], degradedRounds: number, degraded: number): CaseResult {
  const p99 = percentile(spreads, 99);
  const verified =
    degraded === 0
      ? `every store shared throughout (no storeStatus event)`
      : `NOT verified: ${degraded} storeStatus degraded events, in ${degradedRounds} measured rounds`;
  const row: Row = {
    id: '9',
    title: TITLE,
    subject: `RedisStore (quorum 1; ${INSTANCES} processes × ${CLIENTS} callers)`,
    median: ms(median(spreads)),
    range: `${ms(min(spreads))} – ${ms(max(spreads))}`,
    ratio: '—',
  };
  const check: Check = {
    target: TARGET,
    pass: degraded === 0 && p99 <= 100,
    detail:
      `last instance OPEN after the first: median ${ms(median(spreads))}, p99 ${ms(p99)}, ` +
      `max ${ms(max(spreads))} over ${spreads.length} rounds; ${verified}`,
  };
  return { rows: [row], checks: [check] };
}
