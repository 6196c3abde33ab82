/**
 * Case 6: heap growth over 1,000,000 calls through one breaker. Each breaker is warmed up first
 * (so that compiled code and lazily built state are in place), then the heap is measured after a
 * full collection before and after each of two blocks of a million calls (objects only: compiled
 * code is left out). The raw loop is measured the same way, as the floor of what a measurement can
 * show.
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { type CaseResult, type Row, formatBytes, gc, subjectName } from './harness.js';
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

const CALLS = 1_000_000;
/** Growth a leak of even 0.001 B per call would exceed; below it, the heap did not grow. */
const RESOLUTION = 1024;

/**
 * The heap's objects, without compiled code: code compiled or discarded during a block (a late
 * optimisation) is not growth that comes with the calls.
 */
function dataHeap(): number {
  return getHeapSpaceStatistics()
    .filter((space) => !space.space_name.startsWith('code'))
    .reduce((sum, space) => sum + space.space_used_size, 0);
}
const WARMUP = 20_000;

interface Subject {
  readonly library: string;
  readonly config: string;
  /** Returns a loop of n calls through one breaker, and its release. */
  make(): { run(n: number): Promise<void>; release(): void };
}

const subjects: Subject[] = [
  {
    library: 'raw',
    config: 'await fn()',
    make: () => ({
      run: async (n) => {
        for (let i = 0; i < n; i++) await ok();
      },
      release: () => undefined,
    }),
  },
  ...OUR_POLICIES.map((policy): Subject => ({
    library: 'ours',
    config: policy,
    make: () => {
      const breaker = ours(policy);
      return {
        run: async (n) => {
          for (let i = 0; i < n; i++) await breaker.execute(ok);
        },
        release: () => breaker.dispose(),
      };
    },
  })),
  ...COCKATIEL_KINDS.map((kind): Subject => ({
    library: 'cockatiel',
    config: kind,
    make: () => {
      const policy = cockatiel(kind);
      return {
        run: async (n) => {
          for (let i = 0; i < n; i++) await policy.execute(ok);
        },
        release: () => undefined,
      };
    },
  })),
  ...OPOSSUM_KINDS.map((kind): Subject => ({
    library: 'opossum',
    config: opossumLabel(kind),
    make: () => {
      const breaker = opossum(kind, ok);
      return {
        run: async (n) => {
          for (let i = 0; i < n; i++) await breaker.fire();
        },
        release: () => breaker.shutdown(),
      };
    },
  })),
];

export async function runLongRun(scale: number): Promise<CaseResult> {
  const calls = Math.round(CALLS * Math.min(1, scale));
  // Two blocks of a million calls each. Growth that comes with the calls shows in both; a one-off
  // in the heap (a late compilation, a cache of the runtime's freed) shows in one: keep the block
  // nearer zero.
  const growth: Array<[number, number]> = [];
  for (const subject of subjects) {
    const { run, release } = subject.make();
    await run(WARMUP);
    const blocks: number[] = [];
    for (let block = 0; block < 2; block++) {
      gc();
      const before = dataHeap();
      await run(calls);
      gc();
      blocks.push(dataHeap() - before);
    }
    growth.push([blocks[0]!, blocks[1]!]);
    release();
  }
  const least = growth.map(([a, b]) => (Math.abs(a) <= Math.abs(b) ? a : b));
  const rows: Row[] = subjects.map((s, i) => ({
    id: '6',
    title: `heap growth over ${calls.toLocaleString('en-US')} calls through one breaker (the block nearer zero of two)`,
    subject: s.config === '' ? s.library : `${s.library} (${s.config})`,
    median: formatBytes(least[i]!),
    range: `${formatBytes(growth[i]![0])}, ${formatBytes(growth[i]![1])}`,
    ratio: '',
  }));
  const rawGrowth = least[0]!;
  const worst = Math.max(...subjects.flatMap((s, i) => (s.library === 'ours' ? [least[i]!] : [])));
  const peers = subjects
    .flatMap((s, i) =>
      s.library === 'ours' || i === 0 ? [] : [`${subjectName(s)} ${formatBytes(least[i]!)}`],
    )
    .join(', ');
  return {
    rows,
    checks: [
      {
        target: `1M calls: 0 B heap growth (under ${formatBytes(RESOLUTION)}, i.e. < 0.001 B per call)`,
        pass: worst < RESOLUTION,
        detail: `ours worst ${formatBytes(worst)} (raw loop ${formatBytes(rawGrowth)}); ${peers}`,
      },
    ],
  };
}
