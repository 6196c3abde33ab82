/**
 * Case 4: heap allocated per call, above the raw call.
 *
 * Method: after a full collection the young generation is empty, and until the next scavenge
 * nothing allocated is freed, so the growth of `heapUsed` across N calls is exactly what those
 * calls allocated. N is kept small enough (a few hundred KB in all) that no scavenge should run;
 * a performance observer watches for collections, and a measurement during which one ran is
 * thrown away and retried. Each round measures raw and every library back to back, and reports
 * each library's bytes per call minus raw's in that round.
 */
import { sequential } from './closed.js';
import {
  type CaseResult,
  type Contender,
  GcWatch,
  type Row,
  formatBytes,
  gc,
  heapUsed,
  max,
  median,
  min,
  now,
  subjectName,
  tick,
} from './harness.js';

const CALLS = 400;
const WARM_CALLS = 2_000;

/** Bytes one call of `contender` allocates (a measurement a collection ran in is retried). */
export async function bytesPerCall(contender: Contender, watch: GcWatch): Promise<number> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const trial = await contender.setup();
    // The steady state of a long-lived breaker: lazily built state (a window's ring) and whatever
    // a fresh object costs on its first calls belong to the breaker, not to each call.
    await trial.run(WARM_CALLS);
    gc();
    const from = now();
    const before = heapUsed();
    await trial.run(CALLS);
    const after = heapUsed();
    const to = now();
    trial.dispose?.();
    await tick();
    if (!watch.ranBetween(from, to)) return (after - before) / CALLS;
  }
  throw new Error(`${subjectName(contender)}: a collection ran during every measurement`);
}

export async function runAllocation(scale: number): Promise<CaseResult> {
  const all = [sequential.raw, ...sequential.contenders];
  const bytes = all.map(() => [] as number[]);
  const watch = new GcWatch();
  const rounds = Math.max(5, Math.round(15 * scale));
  try {
    for (let round = 0; round < rounds + 1; round++) {
      const perCall = new Array<number>(all.length);
      for (let k = 0; k < all.length; k++) {
        const index = (k + round) % all.length;
        perCall[index] = await bytesPerCall(all[index]!, watch);
      }
      // The first round warms up (compiles) every path and is not kept.
      if (round > 0) perCall.forEach((b, i) => bytes[i]!.push(i === 0 ? b : b - perCall[0]!));
    }
  } finally {
    watch.stop();
  }
  const rows: Row[] = all.map((c, i) => ({
    id: '4',
    title: 'heap allocated per call (above raw)',
    subject: subjectName(c),
    median: i === 0 ? `${formatBytes(median(bytes[0]!))} (raw)` : formatBytes(median(bytes[i]!)),
    range: `${formatBytes(min(bytes[i]!))} – ${formatBytes(max(bytes[i]!))}`,
    ratio: '',
  }));
  const ourWorst = Math.max(
    ...all.flatMap((c, i) => (c.library === 'ours' ? [median(bytes[i]!)] : [])),
  );
  const peers = all
    .flatMap((c, i) =>
      c.library === 'ours' || i === 0 ? [] : [`${c.library} ${formatBytes(median(bytes[i]!))}`],
    )
    .join(', ');
  return {
    rows,
    checks: [
      {
        target: 'allocation ≤ 0.3 KB per call above raw',
        pass: ourWorst <= 0.3 * 1024,
        detail: `ours worst policy ${formatBytes(ourWorst)}; ${peers}`,
      },
    ],
  };
}
