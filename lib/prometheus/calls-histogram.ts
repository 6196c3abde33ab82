import type { Metric } from 'prom-client';
import type { MetricsRegistry } from './circuit-breaker-metrics-options.interface.js';

/** prom-client's default buckets, in seconds (what `new Histogram()` uses without `buckets`). */
const DEFAULT_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * The bucket bounds, sorted; throws unless `buckets` is absent or an array of distinct finite
 * numbers (a repeated bound would give two series with the same `le`, which Prometheus drops).
 */
export function checkBuckets(buckets: readonly number[] | undefined): readonly number[] {
  if (buckets === undefined) return DEFAULT_BUCKETS;
  if (!Array.isArray(buckets) || !buckets.every((bound) => Number.isFinite(bound))) {
    throw new TypeError(
      `registerCircuitBreakerMetrics: buckets must be an array of finite numbers (seconds), received ${String(buckets)}`,
    );
  }
  const sorted = [...buckets].sort((a, b) => a - b);
  const repeated = sorted.find((bound, i) => i > 0 && bound === sorted[i - 1]);
  if (repeated !== undefined) {
    throw new TypeError(
      `registerCircuitBreakerMetrics: buckets must not repeat a bound, received ${String(buckets)} (${repeated} twice)`,
    );
  }
  return sorted;
}

/** One label set's observations: count per bucket (not cumulative), sum, count. */
interface Series {
  readonly name: string;
  readonly kind: string;
  readonly buckets: number[];
  sum: number;
  count: number;
}

/** One sample as prom-client's registry formats it. */
interface Sample {
  readonly metricName: string;
  readonly labels: Record<string, string | number>;
  readonly value: number;
}

/**
 * The `calls_seconds{name,kind}` histogram, as a prom-client metric of its own rather than a
 * `Histogram`: prom-client validates and hashes the labels on every `observe()` (some 400 ns a
 * call), this adds to a series found by two map look-ups. It has what prom-client's registry reads
 * of a metric (`name`, `help`, `type`, `aggregator`, `get()`, `reset()`) and answers `get()` with
 * the samples a `Histogram` gives: `_bucket` (cumulative, with `le`), `_sum`, `_count`.
 */
export class CallsHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: readonly number[];
  private readonly series = new Map<string, Map<string, Series>>();

  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[] | undefined,
    registry: MetricsRegistry,
  ) {
    this.bounds = checkBuckets(buckets);
    registry.registerMetric(this as unknown as Metric);
  }

  /** Counts one call of breaker `name` that took `seconds`. */
  observe(name: string, kind: string, seconds: number): void {
    let byKind = this.series.get(name);
    if (byKind === undefined) this.series.set(name, (byKind = new Map()));
    let series = byKind.get(kind);
    if (series === undefined) {
      series = {
        name,
        kind,
        buckets: new Array<number>(this.bounds.length + 1).fill(0),
        sum: 0,
        count: 0,
      };
      byKind.set(kind, series);
    }
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    series.buckets[i]!++;
    series.sum += seconds;
    series.count++;
  }

  /** Forgets breaker `name`'s series. */
  remove(name: string): void {
    this.series.delete(name);
  }

  reset(): void {
    this.series.clear();
  }

  get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: Sample[];
  }> {
    const values: Sample[] = [];
    for (const byKind of this.series.values()) {
      for (const { name, kind, buckets, sum, count } of byKind.values()) {
        let cumulative = 0;
        for (let i = 0; i < buckets.length; i++) {
          cumulative += buckets[i]!;
          const le = i < this.bounds.length ? this.bounds[i]! : '+Inf';
          values.push({
            metricName: `${this.name}_bucket`,
            labels: { le, name, kind },
            value: cumulative,
          });
        }
        values.push({ metricName: `${this.name}_sum`, labels: { name, kind }, value: sum });
        values.push({ metricName: `${this.name}_count`, labels: { name, kind }, value: count });
      }
    }
    const { name, help, type, aggregator } = this;
    return Promise.resolve({ name, help, type, aggregator, values });
  }
}
