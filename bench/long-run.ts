/**
 * Case 6: heap growth over 1,000,000 calls through one breaker. Each breaker is warmed up first
 * (so that compiled code and lazily built state are in place), then the heap is measured after a
 * full collection before and after the million calls. The raw loop is measured the same way, as
 * the floor of what a measurement can show.
 */
import { type CaseResult, type Row, formatBytes, gc, heapUsed } from './harness.js';
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
  const growth: number[] = [];
  for (const subject of subjects) {
    const { run, release } = subject.make();
    await run(WARMUP);
    gc();
    const before = heapUsed();
    await run(calls);
    gc();
    growth.push(heapUsed() - before);
    release();
  }
  const rows: Row[] = subjects.map((s, i) => ({
    id: '6',
    title: `heap growth over ${calls.toLocaleString('en-US')} calls through one breaker`,
    subject: s.config === '' ? s.library : `${s.library} (${s.config})`,
    median: formatBytes(growth[i]!),
    range: '1 run',
    ratio: '',
  }));
  const rawGrowth = growth[0]!;
  const ours = subjects.flatMap((s, i) => (s.library === 'ours' ? [growth[i]!] : []));
  const worst = Math.max(...ours);
  const peers = subjects
    .flatMap((s, i) =>
      s.library === 'ours' || i === 0 ? [] : [`${s.library} ${formatBytes(growth[i]!)}`],
    )
    .join(', ');
  return {
    rows,
    checks: [
      {
        target: '1M calls: 0 B heap growth',
        pass: worst <= Math.max(0, rawGrowth),
        detail: `ours worst ${formatBytes(worst)} (raw loop ${formatBytes(rawGrowth)}); ${peers}`,
      },
    ],
  };
}
