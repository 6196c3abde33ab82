import { register as globalRegister } from 'prom-client';
import { CIRCUIT_BREAKER_EVENT_TYPES } from '../circuit-breaker.constants.js';
import { Breaker, type BreakerEventName, type Disposable } from '../core/index.js';
import type {
  CircuitBreakerMetrics,
  CircuitBreakerMetricsOptions,
  CircuitBreakerMetricsSource,
  MetricsRegistry,
  MetricsSourceEvent,
} from './circuit-breaker-metrics-options.interface.js';
import { MetricSet, type MetricSource, type ScrapedBreaker } from './metric-set.js';

/** The metric sets of each prom-client registry, by prefix. */
const sets = new WeakMap<MetricsRegistry, Map<string, MetricSet>>();

function isSource(target: unknown): target is CircuitBreakerMetricsSource {
  const t = target as Partial<CircuitBreakerMetricsSource> | null;
  return (
    typeof t === 'object' &&
    t !== null &&
    typeof t.snapshot === 'function' &&
    typeof t.get === 'function' &&
    typeof t.events$?.subscribe === 'function'
  );
}

/** A fixed set of engine breakers: listened to directly; disposed ones drop out at a scrape. */
function breakerSource(breakers: Iterable<Breaker>, set: MetricSet): MetricSource & Disposable {
  const list = [...breakers];
  for (const breaker of list) {
    if (!(breaker instanceof Breaker)) {
      throw new TypeError(
        `registerCircuitBreakerMetrics: expected a CircuitBreakerRegistry or Breakers, received ${String(breaker)}`,
      );
    }
  }
  const live = new Map<Breaker, Disposable[]>();
  for (const breaker of list) {
    if (breaker.isDisposed || live.has(breaker)) continue;
    const name = breaker.name;
    live.set(
      breaker,
      CIRCUIT_BREAKER_EVENT_TYPES.map((type) =>
        breaker.on(type as BreakerEventName, (event: unknown) =>
          set.record({ breaker: name, type, event } as MetricsSourceEvent),
        ),
      ),
    );
  }
  const drop = (breaker: Breaker): void => {
    for (const listener of live.get(breaker) ?? []) listener.dispose();
    live.delete(breaker);
    set.forget(breaker.name);
  };
  return {
    *scrape(): Iterable<ScrapedBreaker> {
      for (const breaker of [...live.keys()]) {
        if (breaker.isDisposed) drop(breaker);
        else yield { breaker, stats: breaker.stats() };
      }
    },
    dispose() {
      for (const breaker of [...live.keys()]) drop(breaker);
    },
  };
}

/** An application's registry: its event stream covers breakers created later too. */
function registrySource(
  registry: CircuitBreakerMetricsSource,
  set: MetricSet,
): MetricSource & Disposable {
  const seen = new Set<string>();
  let closed = false;
  const forgetAll = (): void => {
    for (const name of seen) set.forget(name);
    seen.clear();
  };
  const subscription = registry.events$.subscribe({
    next(event) {
      seen.add(event.breaker);
      set.record(event);
    },
    // The application shut down: its breakers are disposed, their series go.
    complete: forgetAll,
  });
  return {
    *scrape(): Iterable<ScrapedBreaker> {
      if (closed || registry.isShutDown) return;
      for (const [name, stats] of Object.entries(registry.snapshot())) {
        const breaker = registry.get(name);
        if (!breaker.isDisposed) yield { breaker, stats };
      }
    },
    dispose() {
      closed = true;
      subscription.unsubscribe();
      forgetAll();
    },
  };
}

/**
 * Registers Prometheus metrics for circuit breakers on a prom-client registry, with the names and
 * labels of resilience4j-micrometer (see the README, "Prometheus metrics"):
 *
 * ```ts
 * import { Registry } from 'prom-client';
 * import { registerCircuitBreakerMetrics } from 'nestjs-circuit-breaker/prometheus';
 *
 * const registry = new Registry();
 * registerCircuitBreakerMetrics([payments, search], { registry });
 * ```
 *
 * `target` is a `CircuitBreakerRegistry` (breakers it creates later are reported too) or engine
 * breakers (disposed ones drop out at the next scrape). Gauges are computed when scraped;
 * counters and the `calls_seconds` histogram count events from the moment of registration (a
 * call already running then was not timed, and is left out of the histogram). No timer is started.
 *
 * Registering again on the same registry and prefix (a second application in one process) adds
 * to the same metrics instead of failing on prom-client's duplicate-name check; breaker names
 * should then differ between the registrations, or each should get its own `registry`.
 *
 * @returns a handle whose `dispose()` stops the metrics for `target`.
 * @publicApi
 */
export function registerCircuitBreakerMetrics(
  target: CircuitBreakerMetricsSource | Iterable<Breaker>,
  options: CircuitBreakerMetricsOptions = {},
): CircuitBreakerMetrics {
  const registry = options.registry ?? globalRegister;
  const prefix = options.prefix ?? 'circuitbreaker_';
  if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) {
    throw new TypeError(
      `registerCircuitBreakerMetrics: prefix must be a valid Prometheus metric name prefix, received ${JSON.stringify(prefix)}`,
    );
  }
  let byPrefix = sets.get(registry);
  if (byPrefix === undefined) sets.set(registry, (byPrefix = new Map()));
  let set = byPrefix.get(prefix);
  if (set === undefined)
    byPrefix.set(prefix, (set = new MetricSet(registry, prefix, options.buckets)));
  const metricSet = set;
  const source = isSource(target)
    ? registrySource(target, metricSet)
    : breakerSource(target, metricSet);
  metricSet.sources.add(source);
  let disposed = false;
  return {
    dispose() {
      if (disposed) return;
      disposed = true;
      source.dispose();
      metricSet.sources.delete(source);
      if (metricSet.sources.size === 0) {
        metricSet.unregister();
        byPrefix.delete(prefix);
      }
    },
  };
}
