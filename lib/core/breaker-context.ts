import { Bulkhead } from './bulkhead.js';
import { CircuitState } from './circuit-state.js';
import type { Clock } from './clock.js';
import { BreakerOptionsError } from './errors.js';
import { type BreakerEventMap, emitTransition, type Listeners } from './events.js';
import type { CallbackSource } from './options.js';
import { Counters } from './stats.js';
import type { CircuitBinding, CircuitTransition } from './store/circuit-store.js';
import { describeValue } from './describe.js';
import { slowCallDurationOf } from './policies/index.js';
import type { ResolvedBreakerOptions } from './resolved-options.js';
import { VerdictWaiters } from './verdict-waiters.js';

/**
 * What the parts of one breaker share: its options, clock, bulkhead, counters and half-open
 * waiters, and the few things that change while it lives (its listeners, whether it was disposed,
 * whether calls are timed, the latest clock reading). The breaker makes one in its constructor and
 * hands it to each part (outcomes, fallbacks, admission, timed calls); nothing else holds it.
 *
 * Package-internal. Every field is set in the constructor, even to undefined, so that it keeps one
 * shape (hidden class) for life: a field added on first use would make every call site see two.
 */
export class BreakerContext {
  readonly name: string;
  readonly clock: Clock;
  readonly counters: Counters;
  readonly bulkhead: Bulkhead | undefined;
  readonly waiters: VerdictWaiters;
  /** The breaker's `timeout`, in ms; 0 for none. */
  readonly timeoutMs: number;
  /** `Infinity` unless the policy is `slow-call`. */
  readonly slowCallDuration: number;
  /** Whether calls must be timed: the policy needs durations, or someone listens for them. */
  timing: boolean;
  listeners: Listeners<BreakerEventMap> | undefined = undefined;
  disposed = false;
  /** The latest clock reading: durations are measured on readings that never go back. */
  private lastReading: number;

  /** @throws BreakerOptionsError if the clock does not read a finite number. */
  constructor(readonly options: ResolvedBreakerOptions) {
    this.name = options.name;
    this.clock = options.clock;
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
    this.timeoutMs = options.timeout;
    const policy = options.circuit.policy;
    this.slowCallDuration = slowCallDurationOf(policy) ?? Infinity;
    this.timing = this.slowCallDuration !== Infinity;
    this.bulkhead =
      options.maxConcurrent > 0 ? new Bulkhead(options.maxConcurrent, options.maxQueue) : undefined;
    this.counters = new Counters(this.slowCallDuration);
    this.waiters = new VerdictWaiters(this.clock);
  }

  /** What the breaker's circuit (its own, or a store's) is bound with. */
  binding(): CircuitBinding {
    const options = this.options;
    return {
      name: this.name,
      config: options.circuit,
      clock: this.clock,
      random: options.random,
      initialState: options.initialState,
      // Bound rather than an arrow: the circuit keeps it for life, and a bound function is lighter
      // than a closure and its context (bench case 5: heap per idle breaker).
      onTransition: this.onTransition.bind(this),
      onError: (error) => this.report(error, 'store'),
      onProbeSlotFreed: () => this.waiters.wakeOne(),
      onStoreStatus: (status, error) => {
        if (this.listeners?.has('storeStatus')) {
          this.listeners.emit('storeStatus', { breaker: this.name, status, error });
        }
      },
    };
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
      (l !== undefined && (l.has('success') || l.has('failure')));
  }

  /** Hands an error thrown by a user callback, listener or store to `onCallbackError`. */
  report(error: unknown, source: CallbackSource): void {
    try {
      this.options.onCallbackError(error, source, this.name);
    } catch {
      // The reporter itself threw: nothing else can be done, and the breaker is unaffected.
    }
  }

  /** The circuit moved: count an opening, wake those waiting for a verdict, then emit. */
  private onTransition(transition: CircuitTransition): void {
    if (transition.to === CircuitState.Open) this.counters.countOpen();
    this.waiters.transitioned(transition.to);
    if (this.listeners !== undefined) emitTransition(this.listeners, this.name, transition);
  }
}
