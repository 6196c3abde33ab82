/**
 * Case 5: 10,000 idle breakers per library: heap per breaker as created and after one call each,
 * timers left running per breaker, and the process's CPU use while they sit idle compared with
 * baseline periods with no breakers (before and after).
 *
 * Timers are counted with an async hook (every `Timeout` created and not yet destroyed, unref'd
 * ones included: `process.getActiveResourcesInfo()` does not list those), in a separate pass so the
 * hook's bookkeeping does not weigh on the heap figure.
 */
import type { CircuitBreakerPolicy } from 'cockatiel';
import type CircuitBreaker from 'opossum';
import type { Breaker } from '../lib/core/index.js';
import {
  type CaseResult,
  type Row,
  formatBytes,
  gc,
  sleep,
  subjectName,
  tick,
  watchTimers,
} from './harness.js';
import {
  COCKATIEL_KINDS,
  OPOSSUM_KINDS,
  OUR_POLICIES,
  cockatiel,
  ok,
  opossum,
  opossumLabel,
  ours,
} from './subjects.js';

const BREAKERS = 10_000;
const SETTLE_MS = 500;
const TIMER_PASS = 1_000;
const WARM_BREAKERS = 2_000;

/**
 * How to build, call and release one library's breakers. The breakers themselves are kept in a
 * plain array, so that the harness adds nothing but a pointer per breaker to the heap figure.
 */
interface Kind {
  readonly library: string;
  readonly config: string;
  create(i: number): unknown;
  /** Calls the breaker once, with `async () => 1`. */
  call(breaker: unknown): Promise<unknown>;
  release(breaker: unknown): void;
}

const kinds: Kind[] = [
  ...OUR_POLICIES.map((policy): Kind => ({
    library: 'ours',
    config: policy,
    create: (i) => ours(policy, { name: `idle-${i}` }),
    call: (breaker) => (breaker as Breaker).execute(ok),
    release: (breaker) => (breaker as Breaker).dispose(),
  })),
  ...COCKATIEL_KINDS.map((kind): Kind => ({
    library: 'cockatiel',
    config: kind,
    create: () => cockatiel(kind),
    call: (policy) => (policy as CircuitBreakerPolicy).execute(ok),
    release: () => undefined,
  })),
  ...OPOSSUM_KINDS.map((kind): Kind => ({
    library: 'opossum',
    config: opossumLabel(kind),
    create: () => opossum(kind, ok),
    call: (breaker) => (breaker as CircuitBreaker).fire(),
    release: (breaker) => (breaker as CircuitBreaker).shutdown(),
  })),
];

/** The JS heap plus memory outside it (array buffers: a window's ring may live there). */
function memory(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

function makeMany(kind: Kind, count: number): unknown[] {
  const made = new Array<unknown>(count);
  for (let i = 0; i < count; i++) made[i] = kind.create(i);
  return made;
}

async function callEach(kind: Kind, made: readonly unknown[]): Promise<void> {
  for (const breaker of made) await kind.call(breaker);
}

function releaseAll(kind: Kind, made: unknown[]): void {
  for (const breaker of made) kind.release(breaker);
  // An async function's suspended frame can keep a dead local alive: empty the array, so that
  // these breakers do not count in the next library's "before".
  made.length = 0;
}

async function timersPerBreaker(kind: Kind): Promise<number> {
  const timers = watchTimers();
  const made = makeMany(kind, TIMER_PASS);
  try {
    await callEach(kind, made);
    await tick();
    await tick();
    return timers.live.size / TIMER_PASS;
  } finally {
    timers.stop();
    releaseAll(kind, made);
  }
}

/**
 * CPU time the process used per second of wall time while idle, in ms. The collection before it
 * leaves sweeping to background threads, whose CPU counts as the process's: wait for it first.
 */
async function idleCpu(ms: number): Promise<number> {
  gc();
  await sleep(SETTLE_MS);
  const start = process.cpuUsage();
  const wallStart = performance.now();
  await sleep(ms);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / ((performance.now() - wallStart) / 1000);
}

/** CPU noise allowed above the baseline, in ms of CPU per s (0.2% of a core). */
const CPU_TOLERANCE = 2;

export async function runIdle(scale: number): Promise<CaseResult> {
  const idleMs = Math.max(1000, Math.round(1500 * scale));
  const baselineBefore = await idleCpu(idleMs);
  const measured: Array<{
    kind: Kind;
    created: number;
    called: number;
    timers: number;
    cpu: number;
  }> = [];
  for (const kind of kinds) {
    const timers = await timersPerBreaker(kind);
    // A warm-up batch, so that code compiled and feedback gathered on first use is not counted.
    const warm = makeMany(kind, WARM_BREAKERS);
    await callEach(kind, warm);
    releaseAll(kind, warm);
    gc();
    const before = memory();
    const made = makeMany(kind, BREAKERS);
    gc();
    const created = (memory() - before) / BREAKERS;
    await callEach(kind, made);
    gc();
    const called = (memory() - before) / BREAKERS;
    const cpu = await idleCpu(idleMs);
    releaseAll(kind, made);
    measured.push({ kind, created, called, timers, cpu });
  }
  const baselineAfter = await idleCpu(idleMs);
  // The machine is shared: take the noisier of the two baseline periods.
  const baseline = Math.max(baselineBefore, baselineAfter);
  const rows = measured.map((m): Row => ({
    id: '5',
    title: `${BREAKERS.toLocaleString('en-US')} idle breakers: heap per breaker (created; after one call) · timers per breaker · process CPU while idle`,
    subject: subjectName(m.kind),
    median: `${formatBytes(m.created)}; ${formatBytes(m.called)}`,
    range: `${m.timers.toFixed(m.timers % 1 === 0 ? 0 : 2)} timers`,
    ratio: `${m.cpu.toFixed(1)} ms/s (baseline ${baseline.toFixed(1)})`,
  }));
  const ourRows = measured.filter((m) => m.kind.library === 'ours');
  const heapWorst = Math.max(...ourRows.map((m) => m.created));
  const calledWorst = Math.max(...ourRows.map((m) => m.called));
  const timersWorst = Math.max(...ourRows.map((m) => m.timers));
  const cpuWorst = Math.max(...ourRows.map((m) => m.cpu));
  const peers = measured
    .filter((m) => m.kind.library !== 'ours')
    .map(
      (m) =>
        `${subjectName(m.kind)} ${formatBytes(m.created)}, ${m.timers} timers, ${m.cpu.toFixed(1)} ms/s`,
    )
    .join('; ');
  return {
    rows,
    checks: [
      {
        target: `idle breaker ≤ 1 KB each, 0 timers, idle CPU at baseline (within ${CPU_TOLERANCE} ms/s)`,
        pass: heapWorst <= 1024 && timersWorst === 0 && cpuWorst <= baseline + CPU_TOLERANCE,
        detail:
          `ours worst ${formatBytes(heapWorst)} created (${formatBytes(calledWorst)} after one call), ` +
          `${timersWorst} timers, ${cpuWorst.toFixed(1)} ms/s vs baseline ${baseline.toFixed(1)} ms/s; ${peers}`,
      },
    ],
  };
}
