import {
  type Breaker,
  type BreakerFamily,
  CircuitState,
  type Disposable,
  windowReport,
} from '../core/internal.js';
import type { ScrapedAggregate, ScrapedBreaker } from './scraped.js';

/**
 * The key of a family's aggregate series: `name="<family>:__other__"` adds up every key beyond
 * `maxKeysPerFamily`. A real key spelt `__other__` is always folded into it.
 */
export const OTHER_KEYS = '__other__';

/** What a family's series tell their owner. */
export interface FamilySeriesHooks {
  /** A key got its series (`series` is its own name, or the aggregate's); returns its listeners. */
  readonly listen?: (breaker: Breaker, series: string) => Disposable[];
  /** Series `name` (a released key's own) is gone: remove it from the counters. */
  readonly forget: (name: string) => void;
}

const emptyStates = (): Record<CircuitState, number> => ({
  CLOSED: 0,
  OPEN: 0,
  HALF_OPEN: 0,
  FORCED_OPEN: 0,
  DISABLED: 0,
});

/**
 * The series of one family for one registration: the first `cap` keys (in order of creation, and
 * as released keys give their place back) report under their own name (`carrier:dhl`); every
 * other key is added to `<family>:__other__`. A key keeps its place for the life of its breaker,
 * so no series ever moves between the two, and no counter goes backwards.
 */
export class FamilySeries {
  readonly otherName: string;
  /** The keys with a series of their own, and their breaker. */
  private readonly own = new Map<string, Breaker>();
  /** Listeners attached for the engine path, by breaker. */
  private readonly attached = new Map<Breaker, Disposable[]>();
  /** Fallbacks of folded keys already released. */
  private retiredFallbacks = 0;
  /** Whether a key was ever folded in: the aggregate is reported from then on. */
  private folded = false;
  private readonly subscriptions: Disposable[];

  constructor(
    readonly family: BreakerFamily,
    private readonly cap: number,
    private readonly hooks: FamilySeriesHooks,
  ) {
    this.otherName = `${family.name}:${OTHER_KEYS}`;
    for (const key of family.keys()) {
      const breaker = family.peek(key);
      if (breaker !== undefined) this.admit(key, breaker);
    }
    this.subscriptions = [
      family.onKeyCreated(({ key, breaker }) => this.admit(key, breaker)),
      family.onKeyEvicted(({ key, breaker }) => this.release(key, breaker)),
    ];
  }

  /** The series a key's events count into now. */
  seriesOf(key: string): string {
    return this.own.has(key) ? `${this.family.name}:${key}` : this.otherName;
  }

  /** The keys with their own series, as gauges read them. */
  *scrape(): Iterable<ScrapedBreaker> {
    for (const breaker of this.own.values()) {
      if (!breaker.isDisposed) yield { breaker, stats: breaker.stats() };
    }
  }

  /** The aggregate of the folded keys, once a key was folded in. Looks at every key. */
  aggregate(): ScrapedAggregate | undefined {
    if (!this.folded) return undefined;
    const states = emptyStates();
    let successfulCalls = 0;
    let failedCalls = 0;
    let slowCalls = 0;
    let fallbacks = this.retiredFallbacks;
    for (const key of this.family.keys()) {
      if (this.own.has(key)) continue;
      const breaker = this.family.peek(key);
      if (breaker === undefined || breaker.isDisposed) continue;
      const stats = breaker.stats();
      const window = windowReport(stats, breaker.options.circuit);
      states[stats.state]++;
      successfulCalls += window.successfulCalls;
      failedCalls += window.failedCalls;
      slowCalls += window.slowCalls;
      fallbacks += stats.fallbacks;
    }
    return { name: this.otherName, states, successfulCalls, failedCalls, slowCalls, fallbacks };
  }

  /** Stops following the family and removes every series of it. */
  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    for (const listeners of this.attached.values()) for (const l of listeners) l.dispose();
    this.attached.clear();
    for (const key of this.own.keys()) this.hooks.forget(`${this.family.name}:${key}`);
    this.own.clear();
    this.hooks.forget(this.otherName);
  }

  private admit(key: string, breaker: Breaker): void {
    let series: string;
    if (this.own.size < this.cap && key !== OTHER_KEYS) {
      this.own.set(key, breaker);
      series = breaker.name;
    } else {
      this.folded = true;
      series = this.otherName;
    }
    const listeners = this.hooks.listen?.(breaker, series);
    if (listeners !== undefined) this.attached.set(breaker, listeners);
  }

  private release(key: string, breaker: Breaker): void {
    for (const listener of this.attached.get(breaker) ?? []) listener.dispose();
    this.attached.delete(breaker);
    if (this.own.get(key) === breaker) {
      this.own.delete(key);
      this.hooks.forget(breaker.name);
    } else {
      // Folded: its figures stay in the aggregate's counters; keep its fallbacks too.
      this.retiredFallbacks += breaker.stats().fallbacks;
    }
  }
}
