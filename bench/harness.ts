/**
 * The benchmark harness: interleaved rounds, medians, per-round ratios to a raw call, and the
 * markdown table. Shared machines are noisy, so nothing here reports a lone absolute time: every
 * throughput figure is the median of many rounds, and every ratio is computed inside one round (raw
 * and the libraries measured back to back) before taking the median.
 */
import { createHook } from 'node:async_hooks';
import { PerformanceObserver, performance } from 'node:perf_hooks';

/** `global.gc`, which `npm run bench` exposes with `node --expose-gc`. */
export function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('Run the benchmarks with node --expose-gc');
  collect();
  collect();
}

/** The heap in use, in bytes (no collection is forced). */
export function heapUsed(): number {
  return process.memoryUsage().heapUsed;
}

/** Yields to the event loop (timers, I/O and observers get to run). */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function min(values: readonly number[]): number {
  return values.reduce((a, b) => Math.min(a, b), Infinity);
}

export function max(values: readonly number[]): number {
  return values.reduce((a, b) => Math.max(a, b), -Infinity);
}

/**
 * Counts garbage collections by their start time, so a measurement can tell whether one ran inside
 * its window. Entries arrive asynchronously: call `tick()` before asking.
 */
export class GcWatch {
  private readonly starts: number[] = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) this.starts.push(entry.startTime);
  });

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** Whether a collection started between the two `performance.now()` readings. */
  ranBetween(from: number, to: number): boolean {
    return this.starts.some((t) => t >= from && t <= to);
  }

  stop(): void {
    this.observer.disconnect();
  }
}

export const now = (): number => performance.now();

// ---------------------------------------------------------------------------------------------
// Interleaved throughput rounds

/** One contender's fresh state for one round. */
export interface Trial {
  /** Runs `ops` operations, one after the other. */
  run(ops: number): Promise<void>;
  /** Not timed; may be asynchronous (awaited before the next contender starts). */
  dispose?(): void | Promise<void>;
}

export interface Contender {
  readonly library: string;
  readonly config: string;
  /** Operations per round, when this contender needs fewer than the case's default. */
  readonly ops?: number;
  /** Builds fresh breakers for one round. Not timed. */
  setup(): Trial | Promise<Trial>;
}

export interface Measured {
  readonly contender: Contender;
  /** Nanoseconds per call, one value per round. */
  readonly perCall: number[];
  /** `perCall / raw.perCall` of the same round, one value per round. */
  readonly ratios: number[];
}

export interface RoundsOptions {
  readonly rounds: number;
  /** Rounds run first and thrown away, so that every contender is optimised before timing. */
  readonly warmup: number;
  /** Operations per contender per round. */
  readonly ops: number;
  /** Calls per operation (100 when an operation is `Promise.all` of 100 calls). @default 1 */
  readonly callsPerOp?: number;
  readonly raw: Contender;
  readonly contenders: readonly Contender[];
}

/**
 * Runs every contender once per round, raw included, in an order that rotates by one each round so
 * that no library always runs first (fresh heap) or last. Each round builds fresh breakers.
 */
export async function interleave(
  options: RoundsOptions,
): Promise<{ raw: Measured; results: Measured[] }> {
  const all = [options.raw, ...options.contenders];
  const perCall = all.map(() => [] as number[]);
  const callsPerOp = options.callsPerOp ?? 1;
  for (let round = 0; round < options.warmup + options.rounds; round++) {
    const times = new Array<number>(all.length);
    for (let k = 0; k < all.length; k++) {
      const index = (k + round) % all.length;
      const contender = all[index]!;
      const ops = contender.ops ?? options.ops;
      const trial = await contender.setup();
      const start = process.hrtime.bigint();
      await trial.run(ops);
      const elapsed = Number(process.hrtime.bigint() - start);
      await trial.dispose?.();
      times[index] = elapsed / (ops * callsPerOp);
    }
    if (round >= options.warmup) times.forEach((t, i) => perCall[i]!.push(t));
  }
  const rawTimes = perCall[0]!;
  const measured = all.map((contender, i): Measured => ({
    contender,
    perCall: perCall[i]!,
    ratios: perCall[i]!.map((t, r) => t / rawTimes[r]!),
  }));
  return { raw: measured[0]!, results: measured.slice(1) };
}

// ---------------------------------------------------------------------------------------------
// Formatting

export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return String(ns);
  if (ns >= 999_500) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 9_995) return `${(ns / 1e3).toFixed(1)} µs`;
  if (ns >= 999.5) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(0)} ns`;
}

export function formatBytes(bytes: number): string {
  const sign = bytes < 0 ? '-' : '';
  const b = Math.abs(bytes);
  if (b >= 1024 * 1024) return `${sign}${(b / 1024 / 1024).toFixed(1)} MB`;
  if (b >= 1024) return `${sign}${(b / 1024).toFixed(2)} KB`;
  return `${sign}${b.toFixed(0)} B`;
}

export function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : '—';
}

/** One line of the results table. */
export interface Row {
  /** The case, as numbered in the issue ("1", "2b"...). */
  readonly id: string;
  readonly title: string;
  readonly subject: string;
  readonly median: string;
  readonly range: string;
  readonly ratio: string;
}

/** A target from the issue, checked against this run's numbers. `pass` undefined: not measured. */
export interface Check {
  readonly target: string;
  readonly pass: boolean | undefined;
  /** Not measured because something it needs is missing (printed SKIPPED, not PENDING). */
  readonly skipped?: boolean;
  readonly detail: string;
}

export interface CaseResult {
  readonly rows: Row[];
  readonly checks: Check[];
}

/** Table rows for throughput results: median ns/call, min–max over rounds, median ratio to raw. */
export function throughputRows(
  id: string,
  title: string,
  raw: Measured,
  results: readonly Measured[],
): Row[] {
  const row = (m: Measured, isRaw: boolean): Row => ({
    id,
    title,
    subject: subjectName(m.contender),
    median: formatNs(median(m.perCall)),
    range: `${formatNs(min(m.perCall))} – ${formatNs(max(m.perCall))}`,
    ratio: isRaw ? '1.00x' : formatRatio(median(m.ratios)),
  });
  return [row(raw, true), ...results.map((m) => row(m, false))];
}

/** The highest median ratio among our contenders (the verdict must hold for every policy). */
export function worstOurs(results: readonly Measured[]): number {
  return Math.max(
    ...results.filter((m) => m.contender.library === 'ours').map((m) => median(m.ratios)),
  );
}

/** "ours consecutive 1.9x, ...; cockatiel ConsecutiveBreaker(5) 3.5x, ..." for a target line. */
export function describeRatios(results: readonly Measured[]): string {
  const part = (ours: boolean): string =>
    results
      .filter((m) => (m.contender.library === 'ours') === ours)
      .map((m) => `${m.contender.library} ${m.contender.config} ${formatRatio(median(m.ratios))}`)
      .join(', ');
  return `${part(true)}; ${part(false)}`;
}

export function subjectName(c: { library: string; config: string }): string {
  return c.config === '' ? c.library : `${c.library} (${c.config})`;
}

export function markdownTable(rows: readonly Row[]): string {
  const header = [
    '| # | case | library (config) | median | min – max | ratio to raw |',
    '|---|---|---|---:|---:|---:|',
  ];
  let previous = '';
  const lines = rows.map((r) => {
    const first = r.id === previous ? '' : r.id;
    const title = r.id === previous ? '' : r.title;
    previous = r.id;
    return `| ${first} | ${title} | ${r.subject} | ${r.median} | ${r.range} | ${r.ratio} |`;
  });
  return [...header, ...lines].join('\n');
}

export function checkLines(checks: readonly Check[]): string {
  return checks
    .map((c) => {
      const verdict =
        c.pass === undefined ? (c.skipped ? 'SKIPPED' : 'PENDING') : c.pass ? 'PASS' : 'FAIL';
      return `- ${verdict} ${c.target}: ${c.detail}`;
    })
    .join('\n');
}

/** The ids of the timers made from now on and still alive (an async hook sees unref'd ones too), until `stop()`. */
export function watchTimers(): { readonly live: ReadonlySet<number>; stop(): void } {
  const live = new Set<number>();
  const hook = createHook({
    init(id, type) {
      if (type === 'Timeout') live.add(id);
    },
    destroy(id) {
      live.delete(id);
    },
  });
  hook.enable();
  return { live, stop: () => hook.disable() };
}
