import { Bulkhead } from './bulkhead.js';
import { Circuit } from './circuit.js';
import { CircuitState } from './circuit-state.js';
import type { Clock } from './clock.js';
import { BreakerOptionsError } from './errors.js';
import { type BreakerEventMap, emitTransition, type Listeners } from './events.js';
import type { CallbackSource } from './options.js';
import { Counters } from './stats.js';
import type {
  CircuitBinding,
  CircuitHandle,
  CircuitTransition,
  StoreStatus,
} from './store/circuit-store.js';
import { describeValue } from './describe.js';
import { slowCallDurationOf } from './policies/index.js';
import type { ResolvedBreakerOptions } from './resolved-options.js';
import { type VerdictWaiter, wakeOnTransition, wakeOne } from './verdict-waiters.js';

/** How a call's promise is settled: the breaker counts the outcome, then passes it on. */
export interface Settlers {
  readonly ticket: number;
  readonly onValue: (value: unknown) => unknown;
  readonly onError: (error: unknown) => unknown;
}

/**
 * Everything one breaker holds, in one object: its options, clock, circuit, bulkhead, counters
 * (the base class), half-open waiters, and the few things that change while it lives (its
 * listeners, whether it was disposed, whether calls are timed, the latest clock reading, the
 * settlers of the current generation). The breaker makes one in its constructor and holds it as
 * its only helper; the job files (outcomes, fallbacks, admission, timed calls, verdict waiters)
 * are functions taking it, so that an idle breaker costs two objects, not one per job.
 *
 * Package-internal. Every field is set in the constructor, in a fixed order, even to undefined, so
 * that it keeps one shape (hidden class) for life: a field added on first use would make every
 * call site see two.
 */
export class BreakerContext extends Counters {
  readonly name: string;
  readonly options: ResolvedBreakerOptions;
  readonly clock: Clock;
  readonly bulkhead: Bulkhead | undefined;
  /** The breaker's `timeout`, in ms; 0 for none. */
  readonly timeoutMs: number;
  /** Whether calls must be timed: the policy needs durations, or someone listens for them. */
  timing: boolean;
  listeners: Listeners<BreakerEventMap> | undefined;
  disposed: boolean;
  /** The latest clock reading: durations are measured on readings that never go back. */
  private lastReading: number;
  /** Callers waiting for a half-open verdict (see verdict-waiters.ts); made on first wait. */
  waiters: Set<VerdictWaiter> | undefined;
  /** The shared settlers of the latest generation (see outcomes.ts `sharedSettlers`). */
  settlers: Settlers | undefined;
  /** The breaker's circuit, its own or a store's; bound last, once the rest is in place. */
  readonly circuit: CircuitHandle;

  /** @throws BreakerOptionsError if the clock does not read a finite number. */
  constructor(options: ResolvedBreakerOptions) {
    // `slowCallDuration` (a Counters field): `Infinity` unless the policy is `slow-call`.
    super(slowCallDurationOf(options.circuit.policy) ?? Infinity);
    this.name = options.name;
    this.options = options;
    this.clock = options.clock;
    this.bulkhead =
      options.maxConcurrent > 0 ? new Bulkhead(options.maxConcurrent, options.maxQueue) : undefined;
    this.timeoutMs = options.timeout;
    this.timing = this.slowCallDuration !== Infinity;
    this.listeners = undefined;
    this.disposed = false;
    const reading = this.clock.now();
    if (typeof reading !== 'number' || !Number.isFinite(reading)) {
      throw new BreakerOptionsError(
        this.name,
        'clock',
        'a clock whose now() returns a finite number of milliseconds',
        `a clock whose now() returned ${describeValue(reading)}`,
      );
    }
    this.lastReading = reading;
    this.waiters = undefined;
    this.settlers = undefined;
    this.circuit = options.store ? options.store.bind(this.binding()) : new Circuit(this.binding());
  }

  /** The clock's reading, held at the latest one if the clock steps back. */
  now(): number {
    const t = this.clock.now();
    if (t > this.lastReading) this.lastReading = t;
    return this.lastReading;
  }

  /** Recomputes `timing` after a listener came or went. */
  updateTiming(): void {
    const l = this.listeners;
    this.timing =
      this.slowCallDuration !== Infinity ||
      (l !== undefined && (l.has('success') || l.has('failure') || l.has('ignored')));
  }

  /** Hands an error thrown by a user callback, listener or store to `onCallbackError`. */
  report(error: unknown, source: CallbackSource): void {
    try {
      this.options.onCallbackError(error, source, this.name);
    } catch {
      // The reporter itself threw: nothing else can be done, and the breaker is unaffected.
    }
  }

  /** What the breaker's circuit (its own, or a store's) is bound with. */
  private binding(): CircuitBinding {
    const options = this.options;
    return {
      name: this.name,
      config: options.circuit,
      clock: this.clock,
      random: options.random,
      initialState: options.initialState,
      // Bound rather than arrows: the circuit keeps some for life, and a bound function is lighter
      // than a closure and its context (bench case 5: heap per idle breaker).
      onTransition: this.onTransition.bind(this),
      onError: this.onStoreError.bind(this),
      onProbeSlotFreed: this.onProbeSlotFreed.bind(this),
      onStoreStatus: this.onStoreStatus.bind(this),
    };
  }

  /** The circuit moved: count an opening, wake those waiting for a verdict, then emit. */
  private onTransition(transition: CircuitTransition): void {
    if (transition.to === CircuitState.Open) this.countOpen();
    wakeOnTransition(this, transition.to);
    if (this.listeners !== undefined) emitTransition(this.listeners, this.name, transition);
  }

  private onStoreError(error: unknown): void {
    this.report(error, 'store');
  }

  private onProbeSlotFreed(): void {
    wakeOne(this);
  }

  private onStoreStatus(status: StoreStatus, error?: unknown): void {
    if (this.listeners?.has('storeStatus')) {
      this.listeners.emit('storeStatus', { breaker: this.name, status, error });
    }
  }
}
