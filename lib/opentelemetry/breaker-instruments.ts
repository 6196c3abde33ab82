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
import { ALL_STATES as STATES, type MemberName, type StateReading } from './family-slots.js';

/**
 * Bucket bounds advised for `call.duration`, in seconds: the ones the semantic conventions advise
 * for HTTP client and server durations (a View of your own overrides them).
 */
const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/**
 * One handler per engine event type, each taking that type's event, and for a family's key the
 * name (and family) its points go under.
 */
export type EventHandlers = {
  readonly [K in TelemetryEventType]: (event: BreakerEventMap[K], member?: MemberName) => void;
};

/** Where the state instrument reads the breakers when metrics are collected. */
export type StateReader = () => Iterable<StateReading>;

/** The name attributes of a point: the breaker's, or a family key's (with its family). */
const named = (breaker: string, member: MemberName | undefined): Attributes =>
  member === undefined
    ? { [ATTRIBUTES.name]: breaker }
    : { [ATTRIBUTES.name]: member.name, [ATTRIBUTES.family]: member.family };

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
  /** The names the last collection reported, with their family. */
  private reported = new Map<string, string | undefined>();
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
    // Span events keep a family key's own name: a span is one call, not a series.
    this.handlers = {
      success: (e, m) => time(e.duration / 1000, plain.get(e.breaker, 'success', m)),
      ignored: (e, m) => time(e.duration / 1000, plain.get(e.breaker, 'ignored', m)),
      failure: (e, m) =>
        time(e.duration / 1000, {
          ...named(e.breaker, m),
          [ATTRIBUTES.outcome]: 'failure',
          [ATTRIBUTES.errorType]: errorType(e.error),
        }),
      timeout: (e, m) => time(e.timeout / 1000, plain.get(e.breaker, 'timeout', m)),
      rejection: (e, m) => {
        if (!this.active) return;
        const reason = attributeValue(e.reason);
        rejected.add(1, { ...named(e.breaker, m), [ATTRIBUTES.rejectionReason]: reason });
        if (spanEvents) addRejectionEvent(e, reason);
      },
      stateChange: (e, m) => {
        if (!this.active) return;
        transitions.add(1, {
          ...named(e.breaker, m),
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
      const now = new Map<string, string | undefined>();
      const report = (
        name: string,
        family: string | undefined,
        value: (state: CircuitState) => number,
      ): void => {
        const base = named(name, family === undefined ? undefined : { name, family });
        for (const state of STATES) {
          result.observe(value(state), { ...base, [ATTRIBUTES.state]: attributeValue(state) });
        }
      };
      for (const { name, family, state: current, counts } of this.readStates?.() ?? []) {
        now.set(name, family);
        report(name, family, (state) => counts?.[state] ?? (state === current ? 1 : 0));
      }
      for (const [name, family] of this.reported) {
        if (!now.has(name)) report(name, family, () => 0);
      }
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

  get(
    breaker: string,
    outcome: 'success' | 'ignored' | 'timeout',
    member: MemberName | undefined,
  ): Attributes {
    const name = member?.name ?? breaker;
    let byOutcome = this.byBreaker.get(name);
    if (byOutcome === undefined) this.byBreaker.set(name, (byOutcome = {}));
    return (byOutcome[outcome] ??= {
      ...named(breaker, member),
      [ATTRIBUTES.outcome]: outcome,
      // A timeout failed the call with the breaker's own error.
      ...(outcome === 'timeout' ? { [ATTRIBUTES.errorType]: CallTimeoutError.name } : {}),
    });
  }
}
