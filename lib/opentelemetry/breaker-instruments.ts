import type {
  Attributes,
  Counter,
  Histogram,
  Meter,
  ObservableCallback,
  ObservableUpDownCounter,
} from '@opentelemetry/api';
import {
  type BreakerEventMap,
  CallTimeoutError,
  CircuitState,
  type Disposable,
} from '../core/index.js';
import type { TelemetryEventType } from './circuit-breaker-telemetry-options.interface.js';
import { ATTRIBUTES, errorType, attributeValue } from './telemetry-attributes.js';
import { addRejectionEvent, addStateChangeEvent } from './span-events.js';

const STATES: readonly CircuitState[] = Object.values(CircuitState);

/**
 * Bucket bounds advised for `call.duration`, in seconds: the ones the semantic conventions advise
 * for HTTP client and server durations (a View of your own overrides them).
 */
const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** One handler per engine event type, each taking that type's event. */
export type EventHandlers = {
  readonly [K in TelemetryEventType]: (event: BreakerEventMap[K]) => void;
};

/** Where the state instrument reads the breakers when metrics are collected. */
export type StateReader = () => Iterable<readonly [name: string, state: CircuitState]>;

/**
 * The instruments of one registration, on one meter: `state` (observed when metrics are
 * collected, see {@link observeStates}), `call.duration`, `call.rejected` and
 * `state_change.count` (fed by {@link handlers}). Two registrations on one meter create the same
 * instruments twice, which the SDK merges into one stream each; their series differ by breaker name.
 */
export class BreakerInstruments implements Disposable {
  readonly handlers: EventHandlers;
  private readonly state: ObservableUpDownCounter;
  private observe: ObservableCallback | undefined;
  private readStates: StateReader | undefined;
  /** The breakers the last collection reported. */
  private reported = new Set<string>();
  private active = true;

  constructor(meter: Meter, prefix: string, spanEvents: boolean) {
    this.state = meter.createObservableUpDownCounter(`${prefix}state`, {
      description:
        "The circuit breaker's state: 1 for the state it is in, 0 for the other four (the hw.status pattern).",
      unit: '1',
    });
    const duration: Histogram = meter.createHistogram(`${prefix}call.duration`, {
      description:
        'Calls the circuit breaker let through, by outcome, from start to outcome (a timeout at the timeout).',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    const rejected: Counter = meter.createCounter(`${prefix}call.rejected`, {
      description: 'Calls the circuit breaker refused without running them, by reason.',
      unit: '{call}',
    });
    const transitions: Counter = meter.createCounter(`${prefix}state_change.count`, {
      description: "The circuit breaker's state changes, by previous and new state.",
      unit: '{state_change}',
    });

    const plain = new OutcomeAttributes();
    // An event that was already queued when dispose() ran is still delivered: `active` drops it.
    const time = (seconds: number, attributes: Attributes): void => {
      // NaN: the call began before anyone listened, so the breaker did not time it.
      if (this.active && seconds === seconds) duration.record(seconds, attributes);
    };
    this.handlers = {
      success: (e) => time(e.duration / 1000, plain.get(e.breaker, 'success')),
      ignored: (e) => time(e.duration / 1000, plain.get(e.breaker, 'ignored')),
      failure: (e) =>
        time(e.duration / 1000, {
          [ATTRIBUTES.name]: e.breaker,
          [ATTRIBUTES.outcome]: 'failure',
          [ATTRIBUTES.errorType]: errorType(e.error),
        }),
      timeout: (e) => time(e.timeout / 1000, plain.get(e.breaker, 'timeout')),
      rejection: (e) => {
        if (!this.active) return;
        const reason = attributeValue(e.reason);
        rejected.add(1, { [ATTRIBUTES.name]: e.breaker, [ATTRIBUTES.rejectionReason]: reason });
        if (spanEvents) addRejectionEvent(e, reason);
      },
      stateChange: (e) => {
        if (!this.active) return;
        transitions.add(1, {
          [ATTRIBUTES.name]: e.breaker,
          [ATTRIBUTES.previousState]: attributeValue(e.from),
          [ATTRIBUTES.state]: attributeValue(e.to),
        });
        if (spanEvents) addStateChangeEvent(e);
      },
    };
  }

  /**
   * Starts observing `state` from `readStates` whenever metrics are collected. A breaker that is
   * gone since the last collection (disposed, or this registration disposed) is observed once
   * more with 0 for every state: the JavaScript SDK, with cumulative temporality, goes on
   * exporting a series' last value after it is no longer observed, and a stale 1 for `open`
   * would page someone.
   */
  observeStates(readStates: StateReader): void {
    if (!this.active || this.observe !== undefined) return;
    this.readStates = readStates;
    const observe: ObservableCallback = (result) => {
      const now = new Set<string>();
      const report = (name: string, current: CircuitState | undefined): void => {
        for (const state of STATES) {
          result.observe(state === current ? 1 : 0, {
            [ATTRIBUTES.name]: name,
            [ATTRIBUTES.state]: attributeValue(state),
          });
        }
      };
      for (const [name, current] of this.readStates?.() ?? []) {
        now.add(name);
        report(name, current);
      }
      for (const name of this.reported) if (!now.has(name)) report(name, undefined);
      this.reported = now;
      // Disposed, and the zeros are out: leave the meter (once this callback has returned).
      if (!this.active) queueMicrotask(() => this.leave());
    };
    this.observe = observe;
    this.state.addCallback(observe);
  }

  /**
   * Stops recording, and observing once the next collection has reported 0 for this
   * registration's breakers. The instruments stay on the meter (the API cannot remove them).
   */
  dispose(): void {
    if (!this.active) return;
    this.active = false;
    // Let go of the breakers now: a collection may never come.
    this.readStates = undefined;
    if (this.reported.size === 0) this.leave();
  }

  private leave(): void {
    if (this.observe !== undefined) this.state.removeCallback(this.observe);
  }
}

/** The attributes of the outcomes that carry no error, made once per breaker and outcome. */
class OutcomeAttributes {
  private readonly byBreaker = new Map<string, Partial<Record<string, Attributes>>>();

  get(breaker: string, outcome: 'success' | 'ignored' | 'timeout'): Attributes {
    let byOutcome = this.byBreaker.get(breaker);
    if (byOutcome === undefined) this.byBreaker.set(breaker, (byOutcome = {}));
    return (byOutcome[outcome] ??= {
      [ATTRIBUTES.name]: breaker,
      [ATTRIBUTES.outcome]: outcome,
      // A timeout failed the call with the breaker's own error.
      ...(outcome === 'timeout' ? { [ATTRIBUTES.errorType]: CallTimeoutError.name } : {}),
    });
  }
}
