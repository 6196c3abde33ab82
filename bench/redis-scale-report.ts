/**
 * The cost-at-scale bench's output: one row per (instances, breakers), the storm, and the targets
 * checked against this run, as markdown (the README's "Cost at scale" table is pasted from it).
 */
import { type Check, checkLines, formatNs, max, median, min } from './harness.js';
import type { BindResult } from './redis-scale-bind.js';
import type { LatencyResult } from './redis-scale-protocol.js';
import type { CommandCounts, KeyReport, Limits } from './redis-scale-redis.js';

/** One (instances, breakers) configuration. */
export interface Row {
  readonly instances: number;
  readonly breakers: number;
  /** Binding every breaker (250 at a time): until the slowest instance's store had synced them all, in ms. */
  readonly bindMs: number;
  /** A store did not share state (or never caught up), even bound in waves: nothing measured. */
  readonly unshared: boolean;
  readonly keys: KeyReport;
  readonly usedMemoryPerBreaker: number;
  readonly window?: {
    /** Length of the measured window, in s. */
    readonly seconds: number;
    /** Redis's counters over the window. */
    readonly redis: CommandCounts;
    /** Calls the fleet made in the window, and their distinct (breaker, turn) pairs. */
    readonly calls: number;
    readonly pairs: number;
    readonly instanceCpuMs: number;
    /** `storeStatus` events and outcomes dropped during the window. */
    readonly storeEvents: number;
    readonly dropped: number;
  };
  readonly latency?: LatencyResult;
}

export interface StormResult {
  readonly breakers: number;
  readonly instances: number;
  /** From the first trip to the last, in ms. */
  readonly tripSpreadMs: number;
  /** From a breaker's trip to an instance seeing it open, one value per (breaker, instance). */
  readonly delays: number[];
  /** (breaker, instance) pairs in which the instance never saw the breaker open. */
  readonly missing: number;
  /** Transition messages the plain subscriber received. */
  readonly transitions: number;
  readonly publishes: number;
  readonly subscribers: number;
  readonly outputBytes: number;
  readonly limits: Limits;
  /** `storeStatus` events and outcomes dropped during the storm. */
  readonly storeEvents: number;
  readonly dropped: number;
  keys: KeyReport | undefined;
}

/** README, "Many instances" (and bench case 9): every instance refuses within 100 ms (p99). */
const SPREAD_BOUND_MS = 100;
const RATIO_BOUND = 1.5;

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const perK = (value: number, calls: number) => ((value * 1_000) / calls).toFixed(0);
const perKms = (value: number, calls: number) => ((value * 1_000) / calls).toFixed(1);
const int = (v: number) => Math.round(v).toLocaleString('en-US');

function ratioOf(l: LatencyResult | undefined): string {
  if (l === undefined) return '—';
  return (
    `${median(l.ratios).toFixed(2)}x (${formatNs(median(l.redis))} vs ` +
    `${formatNs(median(l.inMemory))}; ${min(l.ratios).toFixed(2)}–${max(l.ratios).toFixed(2)})`
  );
}

function table(rows: readonly Row[]): string {
  const lines = [
    '| P | N | bind | calls/s | scripts | of which TOUCH | all commands | (breaker, turn) pairs | Redis CPU ms | instances CPU ms | bytes/breaker (MEMORY USAGE; used_memory) | keys without TTL | hot path Redis / in-memory |',
    '|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const r of rows) {
    const bind = `${(r.bindMs / 1_000).toFixed(1)} s`;
    const head = `| ${r.instances} | ${int(r.breakers)} | ${bind} | `;
    const ttl = `${r.keys.withoutTtl} of ${int(r.keys.keys)}`;
    const w = r.window;
    if (w === undefined) {
      lines.push(
        `${head}stores never shared, even bound in waves: nothing measured |||||||| ${ttl} | — |`,
      );
      continue;
    }
    const c = w.calls;
    const events = w.storeEvents === 0 ? '' : ` (${int(w.storeEvents)} store events!)`;
    lines.push(
      `${head}${int(c / w.seconds)}${events} | ${perK(w.redis.scripts, c)} | ` +
        `${perK(w.redis.scripts - w.redis.saves, c)} | ${perK(w.redis.all, c)} | ` +
        `${perK(w.pairs, c)} | ${perKms(w.redis.cpuMs, c)} | ${perKms(w.instanceCpuMs, c)} | ` +
        `${int(r.keys.bytes / r.breakers)}; ${int(r.usedMemoryPerBreaker)} | ${ttl} | ` +
        `${ratioOf(r.latency)} |`,
    );
  }
  return lines.join('\n');
}

function stormLines(s: StormResult): string {
  const d = s.delays;
  const l = s.limits;
  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(2)} MB`;
  return [
    `- ${int(1_000)} of ${int(s.breakers)} breakers tripped within ${s.tripSpreadMs.toFixed(0)} ms ` +
      `of each other, ${s.instances} instances; ${int(s.transitions)} transitions published`,
    `- from a trip to each instance seeing it: p50 ${d.length ? percentile(d, 50).toFixed(1) : '—'} ms, ` +
      `p99 ${d.length ? percentile(d, 99).toFixed(1) : '—'} ms, max ${d.length ? max(d).toFixed(1) : '—'} ms ` +
      `over ${int(d.length)} (breaker, instance) pairs; never seen: ${s.missing}`,
    `- pub/sub: ${(s.publishes / Math.max(1, s.transitions)).toFixed(2)} PUBLISH per transition, ` +
      `delivered to ${s.subscribers} subscribers (the instances and this bench's monitor); ` +
      `Redis wrote ${int(s.outputBytes / Math.max(1, s.transitions))} bytes to its clients per ` +
      `transition (script replies included)`,
    `- Redis limits: largest pub/sub output buffer ${mb(l.maxPubsubBuffer)} (${l.samples} samples; ` +
      `client-output-buffer-limit pubsub ${l.pubsubLimit}); at most ${int(l.maxOpsPerSec)} ops/s; ` +
      `${l.newConnections} new and ${l.rejectedConnections} rejected connections, clients ` +
      `${l.clientsChange >= 0 ? '+' : ''}${l.clientsChange}; LATENCY LATEST: ${l.latency}; ` +
      `${l.slowCommands} slow-log entries`,
    ...(s.keys
      ? [
          `- after the storm: ${s.keys.withoutTtl} of ${int(s.keys.keys)} keys without a TTL ` +
            `(${Object.entries(s.keys.kinds)
              .map(([k, n]) => `${k} ${int(n)}`)
              .join(', ')})`,
        ]
      : []),
  ].join('\n');
}

function bindLines(binds: readonly BindResult[]): string {
  return binds
    .map(
      (b) =>
        `- ${int(b.breakers)} breakers: ` +
        (b.ms === undefined
          ? `NOT shared within ${b.guardMs / 1_000} s`
          : `shared and synced in ${(b.ms / 1_000).toFixed(2)} s`) +
        `; lost Redis ${b.outages} times meanwhile${b.reason ? ` (${b.reason})` : ''}`,
    )
    .join('\n');
}

function checks(
  rows: readonly Row[],
  storm: StormResult | undefined,
  binds: readonly BindResult[],
): Check[] {
  const out: Check[] = [];
  for (const b of binds) {
    out.push({
      target: `one store (default options) shares with ${int(b.breakers)} breakers bound at once`,
      pass: b.ms !== undefined && b.outages === 0,
      detail: bindLines([b]).slice(2),
    });
  }
  for (const r of rows.filter((row) => row.latency !== undefined)) {
    const l = r.latency!;
    out.push({
      target: `hot path with the Redis store within ${RATIO_BOUND}x of in-memory, N = ${int(r.breakers)}`,
      pass: l.problems === 0 && median(l.ratios) <= RATIO_BOUND,
      detail: `${ratioOf(l)}; ${l.problems === 0 ? 'shared and CLOSED throughout' : `NOT verified: ${l.problems} problems`}`,
    });
  }
  const ttl = rows.map((r) => r.keys.withoutTtl).concat(storm?.keys ? [storm.keys.withoutTtl] : []);
  out.push({
    target: 'no key of the prefix without a TTL, at every size',
    pass: ttl.every((n) => n === 0),
    detail: rows.map((r) => `P ${r.instances} N ${r.breakers}: ${r.keys.withoutTtl}`).join(', '),
  });
  out.push({
    target: 'every store shared throughout each window (no storeStatus event, no outcome dropped)',
    pass: rows.every((r) => r.window?.storeEvents === 0 && r.window.dropped === 0),
    detail: rows
      .map(
        (r) =>
          `P ${r.instances} N ${r.breakers}: ` +
          (r.window === undefined
            ? `never shared (bind ${(r.bindMs / 1_000).toFixed(1)} s)`
            : `${r.window.storeEvents} events, ${r.window.dropped} dropped`),
      )
      .join(', '),
  });
  if (storm !== undefined) {
    const p99 = percentile(storm.delays, 99);
    const l = storm.limits;
    out.push({
      target: `storm: every instance sees every trip within ${SPREAD_BOUND_MS} ms (p99)`,
      pass: storm.missing === 0 && storm.storeEvents === 0 && p99 <= SPREAD_BOUND_MS,
      detail:
        `p99 ${p99.toFixed(1)} ms, max ${max(storm.delays).toFixed(1)} ms, never seen ` +
        `${storm.missing}; ${storm.storeEvents} store events, ${storm.dropped} outcomes dropped`,
    });
    out.push({
      target:
        'storm: Redis within its limits (pub/sub buffers under the soft limit, no dropped or refused connection)',
      pass:
        l.maxPubsubBuffer < 8 * 1024 * 1024 &&
        l.newConnections === 0 &&
        l.rejectedConnections === 0 &&
        l.clientsChange === 0,
      detail: `largest pub/sub buffer ${l.maxPubsubBuffer} B, ${l.newConnections} new connections, ${l.rejectedConnections} rejected`,
    });
  }
  return out;
}

export function printReport(report: {
  rows: readonly Row[];
  storm: StormResult | undefined;
  binds: readonly BindResult[];
  header: string;
}): void {
  console.log(report.header);
  console.log('');
  console.log('One store, default options, N breakers bound at once:');
  console.log(bindLines(report.binds));
  console.log('');
  console.log("Per 1,000 calls (the window's deltas):");
  console.log('');
  console.log(table(report.rows));
  if (report.storm !== undefined) {
    console.log('');
    console.log('Storm:');
    console.log(stormLines(report.storm));
  }
  console.log('');
  console.log('Targets:');
  console.log(checkLines(checks(report.rows, report.storm, report.binds)));
}
