import type { OpenMetricsContentType, Registry } from 'prom-client';
import type { BreakerEventMap, BreakerFamily, BreakerStats, Breaker } from '../core/index.js';

/** A prom-client registry, of either content type. @publicApi */
export type MetricsRegistry = Registry | Registry<OpenMetricsContentType>;

/** Options of {@link registerCircuitBreakerMetrics} and `CircuitBreakerPrometheusModule.forRoot()`. @publicApi */
export interface CircuitBreakerMetricsOptions {
  /**
   * The prom-client registry the metrics are registered on. With an OpenMetrics registry the
   * counter families are named without `_total` (prom-client appends it to their samples).
   * @default prom-client's global `register`
   */
  registry?: MetricsRegistry;
  /**
   * Prepended to every metric name. `'resilience4j_circuitbreaker_'` gives the exact names of
   * resilience4j-micrometer, for dashboards written for it.
   * @default 'circuitbreaker_'
   */
  prefix?: string;
  /**
   * Upper bounds of the `calls_seconds` histogram's buckets, in seconds: finite and distinct, in
   * any order. When two registrations share a registry and a prefix, the first one's buckets apply.
   * @default prom-client's default buckets (0.005 s to 10 s)
   */
  buckets?: readonly number[];
  /**
   * Keys of one family (`BreakerFamily`, `registry.family(name)`) reported as series of their own,
   * named `<family>:<key>`: the first ones created, and as released keys give their place back. A
   * key keeps its place (or its lack of one) for the life of its breaker. Every other key adds up
   * into one series per family, `name="<family>:__other__"`: its `state` gauge counts the keys in
   * each state, its other figures are sums (no rate gauges), and the figures of its released keys
   * stay in its counters. A released key with its own series loses them at once. An integer >= 0
   * (0: every key in the aggregate).
   * @default 100
   */
  maxKeysPerFamily?: number;
}

/**
 * What the metrics read from an application's breakers: `CircuitBreakerRegistry` satisfies it
 * (structurally, so that engine users need no Nest types).
 * @publicApi
 */
export interface CircuitBreakerMetricsSource {
  /** Statistics of every breaker that exists now, by name. */
  snapshot(): Record<string, BreakerStats>;
  /** The breaker named `name` (called only for names `snapshot()` returned). */
  get(name: string): Breaker;
  /** The names of the families (optional: a source without families). */
  familyNames?(): string[];
  /** The family named `name` (called only for names `familyNames()` returned). */
  family?(name: string): BreakerFamily;
  /** Whether the application has shut down (its breakers are disposed): nothing is reported then. */
  readonly isShutDown: boolean;
  /** Every event of every breaker, including breakers created later. */
  readonly events$: {
    subscribe(observer: { next: (event: MetricsSourceEvent) => void; complete: () => void }): {
      unsubscribe(): void;
    };
  };
}

/** The event types the metrics count. @publicApi */
export type MetricsEventType =
  'stateChange' | 'success' | 'failure' | 'timeout' | 'rejection' | 'ignored';

/** One event of one breaker, as a {@link CircuitBreakerMetricsSource} delivers it. @publicApi */
export type MetricsSourceEvent = {
  [K in MetricsEventType]: {
    /** The breaker's name (`<family>:<key>` for a family's breaker). */
    readonly breaker: string;
    /** For a family's breaker: the family's name. */
    readonly family?: string;
    /** For a family's breaker: its key. */
    readonly key?: string;
    readonly type: K;
    readonly event: BreakerEventMap[K];
  };
}[MetricsEventType];

/** Registered metrics; {@link CircuitBreakerMetrics.dispose} unregisters them. @publicApi */
export interface CircuitBreakerMetrics {
  /**
   * Stops listening to the breakers and removes their series. The metrics themselves leave the
   * prom-client registry when the last registration sharing them (same registry and prefix) is
   * disposed. Calling it again does nothing.
   */
  dispose(): void;
}
