import type { Breaker, BreakerStats, CircuitState } from '../core/index.js';

/** One breaker as a scrape sees it. */
export interface ScrapedBreaker {
  readonly stats: BreakerStats;
  readonly breaker: Breaker;
}

/** What feeds a metric set: one registration (a registry, or a set of breakers). */
export interface MetricSource {
  /** The breakers to report now (disposed ones left out). */
  scrape(): Iterable<ScrapedBreaker>;
  /** The families' aggregate series (their keys beyond the cap), added up. */
  aggregates(): Iterable<ScrapedAggregate>;
}

/** A family's keys without a series of their own, added up, as a scrape sees them. */
export interface ScrapedAggregate {
  /** `<family>:__other__`. */
  readonly name: string;
  /** Keys folded in now, by state. */
  readonly states: Readonly<Record<CircuitState, number>>;
  readonly successfulCalls: number;
  readonly failedCalls: number;
  readonly slowCalls: number;
  /** Fallbacks of every key ever folded in (released ones included): never goes backwards. */
  readonly fallbacks: number;
}
