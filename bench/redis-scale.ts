/**
 * `npm run bench:redis-scale`: what a fleet sharing breakers through one Redis costs Redis, as
 * instances (P) and breakers (N) grow; whether the hot path stays local at every size; a storm of
 * 1,000 trips; and whether every key expires. Separate from `npm run bench`.
 *
 * First, one store with its default options, in this process, binds 1,000 and then 10,000
 * breakers at once (redis-scale-bind.ts): whether, and how soon, it shares.
 *
 * Then, for each (P, N) of the grid (P = 1, 2, 4, 8 at N = 1,000; N = 100, 1,000, 10,000 at
 * P = 8): a fresh Redis (`FLUSHALL`), P processes (bench/redis-scale-worker.ts) each binding the
 * same N breakers to its own `RedisStore` (default options but commandTimeout, see
 * COMMAND_TIMEOUT), 250 at a time, each wave once the store has caught up (all at once does not
 * work at 10,000). Then steady traffic (`RATE` calls/s per instance, in bursts every 10 ms, to
 * breakers drawn at random: see the worker), a warm-up, and a measured window (15 s: exactly one round of the stores'
 * `staleConfigAfter / 4` TOUCH per instance). Per 1,000 calls: the commands Redis ran (`INFO
 * commandstats` deltas: script calls, those that were TOUCH, every command including those the
 * scripts ran), Redis's CPU (`INFO cpu`, user + system), the instances' CPU; bytes per breaker
 * (`MEMORY USAGE` of every key of the prefix / N, and `used_memory` before and after binding / N);
 * keys without a TTL (`SCAN` + `PTTL`, which must be none).
 *
 * At P = 8, for each N, the hot path: on one instance (the seven others keep their traffic), the
 * same sequence of calls through its N Redis breakers and through N in-memory breakers, interleaved
 * round by round (bench/harness.ts); the target is a median ratio within 1.5x.
 *
 * At P = 8, N = 1,000, the storm: every breaker starts failing on every instance at once (each
 * instance calls each of them about once a second, spread over the second, until it sees it OPEN);
 * with quorum 2 and 5 consecutive failures, each trips in Redis on its fifth failure. For each
 * breaker, the trip is the earliest moment anyone saw it open (an instance, or a plain subscriber
 * in this process); measured: from the trip to each instance seeing it (p50/p99/max), against the
 * README's 100 ms; the pub/sub messages per transition; and Redis's limits (redis-scale-redis.ts).
 *
 * Options (environment): SCALE_WINDOW_MS (15000), SCALE_RATE (500), SCALE_GRID
 * ("1:1000,2:1000,…"), SCALE_COMMAND_TIMEOUT (the stores' commandTimeout; default theirs, 500).
 * Needs a `redis-server` on the PATH (it starts its own on a free loopback port): INFO deltas from
 * a shared server would count other clients' work.
 */
import { cpus, loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { redisServerAvailable, startRedis } from '../test/redis/helpers/redis-server.js';
import { sleep } from './harness.js';
import { type BindResult, bindAtOnce } from './redis-scale-bind.js';
import { Fleet } from './redis-scale-fleet.js';
import { breakerName, stamp } from './redis-scale-protocol.js';
import {
  type Limits,
  LimitWatch,
  counts,
  keyReport,
  minus,
  usedMemory,
} from './redis-scale-redis.js';
import { type Row, type StormResult, printReport } from './redis-scale-report.js';

const WINDOW_MS = Number(process.env.SCALE_WINDOW_MS ?? 15_000);
const RATE = Number(process.env.SCALE_RATE ?? 500);
const WARMUP_MS = 3_000;
const TICK_MS = 10;
const STORM = 1_000;
/** Where the storm runs: P = 8, N = 1,000 (every breaker of the fleet trips). */
const STORM_AT = [8, 1_000] as const;
/**
 * The fleet's stores' commandTimeout: generous, as in test/redis/fleet.spec.ts, so that a busy
 * machine does not turn the cost figures into degraded-mode ones (the default, 500 ms, is what the
 * bind-at-once measurement uses).
 */
const COMMAND_TIMEOUT = Number(process.env.SCALE_COMMAND_TIMEOUT ?? 5_000);
/** One store, default options: N breakers bound at once. */
const BIND_AT_ONCE = [1_000, 10_000];
const GRID = (process.env.SCALE_GRID ?? '1:1000,2:1000,4:1000,8:1000,8:100,8:10000')
  .split(',')
  .map((pair) => pair.split(':').map(Number) as [number, number]);
for (const [p, n] of GRID) {
  if (!(p >= 1 && n >= 1)) throw new Error(`SCALE_GRID: expected P:N pairs, received ${p}:${n}`);
}
if (!(WINDOW_MS > 0 && RATE > 0)) throw new Error('SCALE_WINDOW_MS and SCALE_RATE must be > 0');

async function measure(instances: number, breakers: number): Promise<Row> {
  await client.flushall();
  const prefix = `scale:${instances}:${breakers}:`;
  const monitor = new Monitor(redis.url, `${prefix}events`);
  await monitor.ready;
  const fleet = new Fleet({
    url: redis.url,
    prefix,
    instances,
    breakers,
    rate: RATE,
    tickMs: TICK_MS,
    seed: instances * 100_000 + breakers,
    commandTimeout: COMMAND_TIMEOUT,
  });
  try {
    await fleet.connected();
    const memoryBefore = await usedMemory(client);
    const bound = await fleet.bind();
    const memoryAfter = await usedMemory(client);
    const base = { instances, breakers, bindMs: bound.ms };
    if (!bound.shared) {
      const keys = await keyReport(client, prefix);
      return { ...base, unshared: true, keys, usedMemoryPerBreaker: NaN };
    }
    fleet.send({ type: 'traffic', on: true });
    await sleep(WARMUP_MS);
    const [r0, f0] = await Promise.all([counts(client), fleet.counters()]);
    const t0 = performance.now();
    await sleep(WINDOW_MS);
    const [r1, f1] = await Promise.all([counts(client), fleet.counters()]);
    const seconds = (performance.now() - t0) / 1_000;
    const keys = await keyReport(client, prefix);
    const latency = instances === 8 ? await fleet.latency(10, 2, 20_000) : undefined;
    if (instances === STORM_AT[0] && breakers === STORM_AT[1]) {
      storm = await runStorm(fleet, monitor, breakers);
      storm.keys = await keyReport(client, prefix);
    }
    return {
      ...base,
      unshared: false,
      keys,
      usedMemoryPerBreaker: (memoryAfter - memoryBefore) / breakers,
      window: {
        seconds,
        redis: minus(r1, r0),
        calls: f1.calls - f0.calls,
        pairs: f1.pairs - f0.pairs,
        instanceCpuMs: f1.cpuMs - f0.cpuMs,
        storeEvents: f1.storeEvents - f0.storeEvents,
        dropped: f1.dropped - f0.dropped,
      },
      latency,
    };
  } finally {
    await fleet.stop();
    monitor.close();
  }
}

async function runStorm(fleet: Fleet, monitor: Monitor, breakers: number): Promise<StormResult> {
  process.stderr.write(
    `storm: ${STORM} of ${breakers} breakers fail on ${fleet.size} instances…\n`,
  );
  const watch = new LimitWatch(client);
  await watch.prepare(20);
  const [before, fleetBefore] = await Promise.all([counts(client), fleet.counters()]);
  const messagesBefore = monitor.transitions;
  const opened = await fleet.storm(STORM, stamp() + 100);
  // Every transition has reached the monitor too before Redis is read again.
  const deadline = Date.now() + 10_000;
  while (monitor.opened.size < STORM && Date.now() < deadline) await sleep(5);
  const limits: Limits = await watch.stop();
  const redisDelta = minus(await counts(client), before);
  const fleetAfter = await fleet.counters();
  const trips: number[] = [];
  const delays: number[] = [];
  let missing = 0;
  for (let i = 0; i < STORM; i++) {
    const seen = opened.map((o) => o[i] ?? null);
    const known = seen.filter((t): t is number => t !== null);
    missing += seen.length - known.length;
    const trip = Math.min(...known, monitor.opened.get(breakerName(i)) ?? Infinity);
    trips.push(trip);
    for (const t of known) delays.push(t - trip);
  }
  const transitions = monitor.transitions - messagesBefore;
  return {
    breakers,
    instances: fleet.size,
    tripSpreadMs: Math.max(...trips) - Math.min(...trips),
    delays,
    missing,
    transitions,
    publishes: redisDelta.publishes,
    subscribers: fleet.size + 1,
    outputBytes: redisDelta.outputBytes,
    limits,
    storeEvents: fleetAfter.storeEvents - fleetBefore.storeEvents,
    dropped: fleetAfter.dropped - fleetBefore.dropped,
    keys: undefined,
  };
}

/** A plain subscriber to the stores' channel: counts transitions and notes when each opened. */
class Monitor {
  readonly opened = new Map<string, number>();
  transitions = 0;
  readonly ready: Promise<unknown>;
  private readonly sub: Redis;

  constructor(url: string, channel: string) {
    this.sub = new Redis(url, { disconnectTimeout: 0 });
    this.sub.on('error', () => undefined);
    this.sub.on('message', (_channel: string, message: string) => {
      const at = stamp();
      const m = JSON.parse(message) as { n?: string; s?: string };
      if (m.s === undefined) return;
      this.transitions++;
      if (m.s === 'OPEN' && m.n !== undefined && !this.opened.has(m.n)) this.opened.set(m.n, at);
    });
    this.ready = this.sub.subscribe(channel);
  }

  close(): void {
    this.sub.disconnect();
  }
}

if (!redisServerAvailable()) {
  console.log('skipped: needs redis-server on the PATH (INFO deltas need a Redis of its own)');
  process.exit(0);
}

const started = performance.now();
const load = loadavg();
const redis = await startRedis();
const client = redis.client();
const rows: Row[] = [];
let storm: StormResult | undefined;
const binds: BindResult[] = [];
try {
  for (const n of BIND_AT_ONCE) {
    process.stderr.write(`one store, ${n} breakers bound at once…\n`);
    await client.flushall();
    binds.push(await bindAtOnce(redis.url, n, 30_000));
  }
  for (const [instances, breakers] of GRID) {
    process.stderr.write(`P = ${instances}, N = ${breakers}…\n`);
    try {
      const row = await measure(instances, breakers);
      rows.push(row);
      // Each row as soon as it is measured, so that a run cut short still tells something.
      process.stderr.write(`${JSON.stringify(row)}\n`);
    } catch (error) {
      process.stderr.write(`P = ${instances}, N = ${breakers} failed: ${String(error)}\n`);
    }
  }
} finally {
  await redis.stop();
}
printReport({
  rows,
  storm,
  binds,
  header:
    `Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores); ` +
    `load average at start ${load.map((l) => l.toFixed(2)).join(' ')}; ` +
    `${RATE} calls/s per instance, window ${WINDOW_MS / 1_000} s; ` +
    `fleet stores' commandTimeout ${COMMAND_TIMEOUT} ms; ` +
    `${((performance.now() - started) / 1_000).toFixed(0)} s in all`,
});
