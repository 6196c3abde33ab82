import { register as globalRegister } from 'prom-client';
import { CIRCUIT_BREAKER_EVENT_TYPES } from '../circuit-breaker.constants.js';
import {
  Breaker,
  type BreakerEventName,
  BreakerFamily,
  describeValue,
  type Disposable,
} from '../core/internal.js';
import type {
  CircuitBreakerMetrics,
  CircuitBreakerMetricsOptions,
  CircuitBreakerMetricsSource,
  MetricsRegistry,
  MetricsSourceEvent,
} from './circuit-breaker-metrics-options.interface.js';
import { FamilySeries, type FamilySeriesHooks } from './family-series.js';
import { MetricSet } from './metric-set.js';
import type { MetricSource, ScrapedAggregate, ScrapedBreaker } from './scraped.js';

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

/** Listens to one engine breaker's events, counted into series `series`. */
function listen(breaker: Breaker, series: string, set: MetricSet): Disposable[] {
  return CIRCUIT_BREAKER_EVENT_TYPES.map((type) =>
    breaker.on(type as BreakerEventName, (event: unknown) =>
      set.record({ breaker: series, type, event } as MetricsSourceEvent),
    ),
  );
}

/** A fixed set of engine breakers and families: listened to directly; disposed ones drop out at a scrape. */
function breakerSource(
  targets: Iterable<Breaker | BreakerFamily>,
  set: MetricSet,
  maxKeysPerFamily: number,
): MetricSource & Disposable {
  const list = [...targets];
  for (const target of list) {
    if (!(target instanceof Breaker) && !(target instanceof BreakerFamily)) {
      throw new TypeError(
        `registerCircuitBreakerMetrics: expected a CircuitBreakerRegistry, Breakers or BreakerFamilies, received ${String(target)}`,
      );
    }
  }
  const live = new Map<Breaker, Disposable[]>();
  const families = new Map<BreakerFamily, FamilySeries>();
  const hooks: FamilySeriesHooks = {
    listen: (breaker, series) => listen(breaker, series, set),
    forget: (name) => set.forget(name),
  };
  for (const target of list) {
    if (target instanceof BreakerFamily) {
      if (!target.isDisposed && !families.has(target)) {
        families.set(target, new FamilySeries(target, maxKeysPerFamily, hooks));
      }
    } else if (!target.isDisposed && !live.has(target)) {
      live.set(target, listen(target, target.name, set));
    }
  }
  const drop = (breaker: Breaker): void => {
    for (const listener of live.get(breaker) ?? []) listener.dispose();
    live.delete(breaker);
    set.forget(breaker.name);
  };
  const dropFamily = (family: BreakerFamily): void => {
    families.get(family)?.dispose();
    families.delete(family);
  };
  return {
    *scrape(): Iterable<ScrapedBreaker> {
      for (const breaker of [...live.keys()]) {
        if (breaker.isDisposed) drop(breaker);
        else yield { breaker, stats: breaker.stats() };
      }
      for (const [family, series] of [...families]) {
        if (family.isDisposed) dropFamily(family);
        else yield* series.scrape();
      }
    },
    *aggregates(): Iterable<ScrapedAggregate> {
      for (const series of families.values()) {
        const aggregate = series.aggregate();
        if (aggregate !== undefined) yield aggregate;
      }
    },
    dispose() {
      for (const breaker of [...live.keys()]) drop(breaker);
      for (const family of [...families.keys()]) dropFamily(family);
    },
  };
}

/** An application's registry: its event stream covers breakers (and keys) created later too. */
function registrySource(
  registry: CircuitBreakerMetricsSource,
  set: MetricSet,
  maxKeysPerFamily: number,
): MetricSource & Disposable {
  const seen = new Set<string>();
  const families = new Map<string, FamilySeries>();
  let closed = false;
  const hooks: FamilySeriesHooks = { forget: (name) => set.forget(name) };
  /** Follows the registry's families not followed yet (declared after registration). */
  const syncFamilies = (): void => {
    if (closed || registry.familyNames === undefined || registry.family === undefined) return;
    for (const name of registry.familyNames()) {
      if (families.has(name)) continue;
      const family = registry.family(name);
      if (!family.isDisposed) families.set(name, new FamilySeries(family, maxKeysPerFamily, hooks));
    }
  };
  const forgetAll = (): void => {
    for (const name of seen) set.forget(name);
    seen.clear();
    for (const series of families.values()) series.dispose();
    families.clear();
  };
  syncFamilies();
  const subscription = registry.events$.subscribe({
    next(event) {
      if (event.family === undefined || event.key === undefined) {
        seen.add(event.breaker);
        set.record(event);
        return;
      }
      if (!families.has(event.family)) syncFamilies();
      const series = families.get(event.family);
      // A key is counted under its own series or its family's aggregate, never a series of its own
      // beyond the cap.
      if (series !== undefined) set.record({ ...event, breaker: series.seriesOf(event.key) });
    },
    // The application shut down: its breakers are disposed, their series go.
    complete() {
      closed = true;
      forgetAll();
    },
  });
  return {
    *scrape(): Iterable<ScrapedBreaker> {
      if (closed || registry.isShutDown) return;
      for (const [name, stats] of Object.entries(registry.snapshot())) {
        const breaker = registry.get(name);
        if (!breaker.isDisposed) yield { breaker, stats };
      }
      syncFamilies();
      for (const series of families.values()) yield* series.scrape();
    },
    *aggregates(): Iterable<ScrapedAggregate> {
      if (closed || registry.isShutDown) return;
      for (const series of families.values()) {
        const aggregate = series.aggregate();
        if (aggregate !== undefined) yield aggregate;
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
 * `target` is a `CircuitBreakerRegistry` (breakers it creates later are reported too, and its
 * families) or engine breakers and `BreakerFamily`s (disposed ones drop out at the next scrape).
 * A family's first `maxKeysPerFamily` keys are series of their own, named `<family>:<key>`; the
 * others add up into `<family>:__other__`, so a family never makes more series than that. Gauges are computed when scraped;
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
  target: CircuitBreakerMetricsSource | Iterable<Breaker | BreakerFamily>,
  options: CircuitBreakerMetricsOptions = {},
): CircuitBreakerMetrics {
  const registry = options.registry ?? globalRegister;
  const prefix = options.prefix ?? 'circuitbreaker_';
  if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) {
    throw new TypeError(
      `registerCircuitBreakerMetrics: prefix must be a valid Prometheus metric name prefix, received ${JSON.stringify(prefix)}`,
    );
  }
  const maxKeysPerFamily = options.maxKeysPerFamily ?? 100;
  if (
    typeof maxKeysPerFamily !== 'number' ||
    !Number.isSafeInteger(maxKeysPerFamily) ||
    maxKeysPerFamily < 0
  ) {
    throw new TypeError(
      `registerCircuitBreakerMetrics: maxKeysPerFamily must be an integer >= 0, received ${describeValue(maxKeysPerFamily)}`,
    );
  }
  let byPrefix = sets.get(registry);
  if (byPrefix === undefined) sets.set(registry, (byPrefix = new Map()));
  let set = byPrefix.get(prefix);
  if (set === undefined)
    byPrefix.set(prefix, (set = new MetricSet(registry, prefix, options.buckets)));
  const metricSet = set;
  const source = isSource(target)
    ? registrySource(target, metricSet, maxKeysPerFamily)
    : breakerSource(target, metricSet, maxKeysPerFamily);
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
