import { Counter, Gauge, Registry } from 'prom-client';
import { CircuitState, windowReport } from '../core/internal.js';
import { CallsHistogram, checkBuckets } from './calls-histogram.js';
import type { MetricSource, ScrapedAggregate, ScrapedBreaker } from './scraped.js';
import type {
  MetricsRegistry,
  MetricsSourceEvent,
} from './circuit-breaker-metrics-options.interface.js';

const STATES = Object.values(CircuitState);

/** A circuit state as a label value: `HALF_OPEN` → `half_open`. */
const label = (state: CircuitState): string => state.toLowerCase();

/** The `kind` label of `calls_seconds`. */
type CallKind = 'successful' | 'failed' | 'ignored';

/** Every metric's name after the prefix. */
const METRICS = (total: string) => [
  'state',
  'failure_rate',
  'slow_call_rate',
  'buffered_calls',
  'slow_calls',
  `fallback_calls${total}`,
  'calls_seconds',
  `not_permitted_calls${total}`,
  `state_transitions${total}`,
];

/**
 * The metrics of one prom-client registry and prefix, shared by every registration on them, so
 * that registering twice (two applications in one process) reports both instead of failing on
 * prom-client's duplicate-name check. Gauges are computed in `collect()`, when scraped; the
 * counters and the histogram are fed by {@link record}.
 */
export class MetricSet {
  readonly sources = new Set<MetricSource>();
  private readonly names: readonly string[];
  /** The metrics computed when scraped: the gauges and `fallback_calls_total`. */
  private readonly scraped: ReadonlyArray<Gauge<string> | Counter<string>>;
  private readonly calls: CallsHistogram;
  private readonly notPermitted: Counter<'name' | 'kind'>;
  private readonly transitions: Counter<'name' | 'from' | 'to'>;

  constructor(
    private readonly registry: MetricsRegistry,
    prefix: string,
    buckets: readonly number[] | undefined,
  ) {
    checkBuckets(buckets);
    // An OpenMetrics registry appends `_total` to a counter's samples itself: the family is named
    // without it there, so that the samples read `..._calls_total` with either content type.
    const total =
      (registry.contentType as string) === Registry.OPENMETRICS_CONTENT_TYPE ? '' : '_total';
    this.names = METRICS(total).map((name) => prefix + name);
    // Checked first, so that a clash leaves nothing half-registered.
    const taken = this.names.filter((name) => registry.getSingleMetric(name) !== undefined);
    if (taken.length > 0) {
      throw new Error(
        `registerCircuitBreakerMetrics: the registry already has ${taken.join(', ')}, registered by ` +
          'something else (another copy of this package, or your own metrics); choose another prefix',
      );
    }
    const scrape = (): ScrapedBreaker[] =>
      [...this.sources].flatMap((source) => [...source.scrape()]);
    const aggregates = (): ScrapedAggregate[] =>
      [...this.sources].flatMap((source) => [...source.aggregates()]);
    const registers = [registry];
    const gauge = <L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[],
      fill: (gauge: Gauge<L>, scraped: ScrapedBreaker) => void,
      fillAggregate?: (gauge: Gauge<L>, aggregate: ScrapedAggregate) => void,
    ): Gauge<L> =>
      new Gauge<L>({
        name: prefix + name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          for (const scraped of scrape()) fill(this, scraped);
          if (fillAggregate !== undefined) for (const a of aggregates()) fillAggregate(this, a);
        },
      });
    this.scraped = [
      gauge(
        'state',
        "The state of the circuit breaker: 1 for its state, 0 for the others (for a family's <family>:__other__ series, its keys in each state).",
        ['name', 'state'],
        (g, { stats }) => {
          for (const state of STATES)
            g.set({ name: stats.name, state: label(state) }, state === stats.state ? 1 : 0);
        },
        (g, { name, states }) => {
          for (const state of STATES) g.set({ name, state: label(state) }, states[state]);
        },
      ),
      gauge(
        'failure_rate',
        'The failure rate the trip policy sees, in percent; -1 while it holds fewer than its minimum number of calls.',
        ['name'],
        (g, s) => {
          g.set({ name: s.stats.name }, report(s).failureRate);
        },
      ),
      gauge(
        'slow_call_rate',
        'The slow-call rate the trip policy sees, in percent; -1 while it holds fewer than its minimum number of calls.',
        ['name'],
        (g, s) => {
          g.set({ name: s.stats.name }, report(s).slowCallRate);
        },
      ),
      gauge(
        'buffered_calls',
        'The calls the trip policy holds (its window), by outcome.',
        ['name', 'kind'],
        (g, s) => {
          const { successfulCalls, failedCalls } = report(s);
          g.set({ name: s.stats.name, kind: 'successful' }, successfulCalls);
          g.set({ name: s.stats.name, kind: 'failed' }, failedCalls);
        },
        (g, { name, successfulCalls, failedCalls }) => {
          g.set({ name, kind: 'successful' }, successfulCalls);
          g.set({ name, kind: 'failed' }, failedCalls);
        },
      ),
      gauge(
        'slow_calls',
        'The slow calls the trip policy holds (its window; the slow-call policy only, otherwise 0).',
        ['name', 'kind'],
        (g, s) => {
          g.set({ name: s.stats.name, kind: 'all' }, report(s).slowCalls);
        },
        (g, { name, slowCalls }) => g.set({ name, kind: 'all' }, slowCalls),
      ),
      new Counter({
        name: `${prefix}fallback_calls${total}`,
        help: 'The calls a fallback answered, over the life of the breaker.',
        labelNames: ['name', 'kind'],
        registers,
        collect() {
          this.reset();
          for (const { stats } of scrape())
            this.inc({ name: stats.name, kind: 'all' }, stats.fallbacks);
          for (const { name, fallbacks } of aggregates())
            this.inc({ name, kind: 'all' }, fallbacks);
        },
      }),
    ];
    this.calls = new CallsHistogram(
      `${prefix}calls_seconds`,
      'The calls that ran, by outcome (a timeout counts as failed), in seconds.',
      buckets,
      registry,
    );
    this.notPermitted = new Counter({
      name: `${prefix}not_permitted_calls${total}`,
      help: 'The calls the circuit refused (OPEN, FORCED_OPEN, or HALF_OPEN with every probe slot taken).',
      labelNames: ['name', 'kind'],
      registers,
    });
    this.transitions = new Counter({
      name: `${prefix}state_transitions${total}`,
      help: 'The state transitions of the circuit breaker.',
      labelNames: ['name', 'from', 'to'],
      registers,
    });
  }

  /** Counts one event into the counters and the histogram. */
  record(e: MetricsSourceEvent): void {
    switch (e.type) {
      case 'success':
        return this.observe(e.breaker, 'successful', e.event.duration);
      case 'failure':
        return this.observe(e.breaker, 'failed', e.event.duration);
      case 'timeout':
        return this.observe(e.breaker, 'failed', e.event.timeout);
      case 'ignored':
        return this.observe(e.breaker, 'ignored', e.event.duration);
      case 'rejection':
        // Bulkhead refusals are not the circuit's: resilience4j counts them in its bulkhead metrics.
        if (e.event.reason !== 'bulkhead') {
          this.notPermitted.inc({ name: e.breaker, kind: 'not_permitted' });
        }
        return;
      case 'stateChange':
        this.transitions.inc({ name: e.breaker, from: label(e.event.from), to: label(e.event.to) });
        return;
    }
  }

  /** Removes every series of breaker `name` from the counters and the histogram. */
  forget(name: string): void {
    this.calls.remove(name);
    this.notPermitted.remove({ name, kind: 'not_permitted' });
    for (const from of STATES) {
      for (const to of STATES) this.transitions.remove({ name, from: label(from), to: label(to) });
    }
  }

  /** Takes the metrics off the registry (the last registration sharing them was disposed). */
  unregister(): void {
    for (const name of this.names) this.registry.removeSingleMetric(name);
  }

  private observe(name: string, kind: CallKind, ms: number): void {
    // NaN: the call began before anyone listened, so the breaker did not time it.
    if (ms === ms) this.calls.observe(name, kind, ms / 1000);
  }
}

/**
 * The policy's window as resilience4j reports it: rates in percent, -1 until the policy holds its
 * minimum number of calls (`minimumCalls` of a window policy; one call for `consecutive`).
 */
const report = ({ stats, breaker }: ScrapedBreaker) => windowReport(stats, breaker.options.circuit);
