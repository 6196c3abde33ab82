import { Bulkhead } from './bulkhead.js';
import { Circuit } from './circuit.js';
import { CircuitState, type RejectingState } from './circuit-state.js';
import type { Clock } from './clock.js';
import {
  BreakerDisposedError,
  BreakerOptionsError,
  BulkheadRejectedError,
  CallTimeoutError,
  type CircuitOpenError,
  createCircuitOpenError,
} from './errors.js';
import {
  type BreakerEventMap,
  type BreakerEventName,
  type Disposable,
  Listeners,
  type StateChangeEvent,
  toDisposable,
} from './events.js';
import type { BreakerOptions, CallOptions, CallbackSource, FallbackFunction } from './options.js';
import type { CircuitSnapshot } from './snapshot.js';
import type { BreakerStats } from './stats.js';
import {
  ACQUIRE_ASYNC,
  type CircuitBinding,
  type CircuitHandle,
  type CircuitTransition,
  REJECTED_FORCED_OPEN,
  REJECTED_HALF_OPEN,
  REJECTED_OPEN,
} from './store/circuit-store.js';
import { describeValue } from './describe.js';
import { slowCallDurationOf } from './policies/index.js';
import type { ResolvedBreakerOptions } from './resolved-options.js';
import { resolveBreakerOptions } from './validate-options.js';

/**
 * The function a breaker protects. It receives an `AbortSignal` when the call can be aborted: the
 * breaker has a `timeout`, or the caller passed its own `signal`. Otherwise it receives `undefined`,
 * which `fetch` and most clients accept as "no signal".
 */
export type Protected<T> = (signal: AbortSignal | undefined) => T | PromiseLike<T>;

/** How a settled call was counted. */
export type Outcome = 'success' | 'failure' | 'ignored';

const EMPTY_ARGS: readonly unknown[] = Object.freeze([]);

/** How a call's promise is settled: the breaker counts the outcome, then passes it on. */
interface Settlers {
  readonly generation: number;
  readonly onValue: (value: unknown) => unknown;
  readonly onError: (error: unknown) => unknown;
}

/** Why a caller waiting for a half-open verdict was woken. */
type WakeReason = 'verdict' | 'slot' | 'timeout' | 'aborted';

interface VerdictWaiter {
  resolve(reason: WakeReason): void;
  timer: unknown;
}

/** `admitSlowly` result: the caller's own signal aborted while it waited. */
const ABANDONED = -100;

/**
 * A thenable that rejects with `error`. A promise resolved with it (`Promise.resolve`, or a `then`
 * callback returning it) rejects a tick later without a `throw` and without being rejected while
 * nobody listens: in Node each throw builds a message with a source location, and each promise
 * rejected before it has a handler goes through the unhandled-rejection tracker, and either costs
 * more than everything else a failed or refused call does. An unhandled rejection is still reported.
 */
function rejectionWith(error: unknown): PromiseLike<never> {
  const thenable = { then: (_: unknown, reject: (reason: unknown) => void) => reject(error) };
  return thenable as unknown as PromiseLike<never>;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * A circuit breaker: runs calls to a dependency, counts their outcomes, and stops calling the
 * dependency while it is failing.
 *
 * ```ts
 * const breaker = new Breaker({ name: 'payments', failureThreshold: 5, openDuration: 30_000 });
 * const quote = await breaker.execute((signal) => fetchQuote(id, { signal }));
 * ```
 *
 * Guarantees, under any interleaving of calls: a transition happens exactly once; `HALF_OPEN` admits
 * exactly `halfOpenMaxCalls` probes; an outcome from a call admitted under an older state never acts
 * on a newer one; `stats()` always adds up. No timer runs unless a call timeout or a half-open wait
 * is pending.
 */
export class Breaker {
  /** The breaker's name. */
  readonly name: string;
  /** The validated options, with defaults applied. */
  readonly options: ResolvedBreakerOptions;

  private readonly circuit: CircuitHandle;
  private readonly clock: Clock;
  private readonly bulkhead: Bulkhead | undefined;
  private readonly timeoutMs: number;
  /** `Infinity` unless the policy is `slow-call`. */
  private readonly slowCallDuration: number;
  /** Whether calls must be timed: the policy needs durations, or someone listens for them. */
  private timing: boolean;
  // Every field is set in the constructor, even to undefined, so that a breaker keeps one shape
  // (hidden class) for life: a field added on first use would make every call site see two.
  private listeners: Listeners<BreakerEventMap> | undefined = undefined;
  private waiters: Set<VerdictWaiter> | undefined = undefined;
  private settlers: Settlers | undefined = undefined;
  private disposed = false;
  /** The latest clock reading: durations are measured on readings that never go back. */
  private lastReading: number;

  private nCalls = 0;
  private nSuccesses = 0;
  private nFailures = 0;
  private nTimeouts = 0;
  private nIgnored = 0;
  private nRejectedOpen = 0;
  private nRejectedHalfOpen = 0;
  private nRejectedForcedOpen = 0;
  private nRejectedBulkhead = 0;
  private nSlow = 0;
  private nFallbacks = 0;
  private nInFlight = 0;
  private nOpens = 0;

  /** @throws BreakerOptionsError if an option is invalid. */
  constructor(options: BreakerOptions) {
    const resolved = resolveBreakerOptions(options);
    this.options = resolved;
    this.name = resolved.name;
    this.clock = resolved.clock;
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
    this.timeoutMs = resolved.timeout;
    const policy = resolved.circuit.policy;
    this.slowCallDuration = slowCallDurationOf(policy) ?? Infinity;
    this.timing = this.slowCallDuration !== Infinity;
    this.bulkhead =
      resolved.maxConcurrent > 0
        ? new Bulkhead(resolved.maxConcurrent, resolved.maxQueue)
        : undefined;
    const binding: CircuitBinding = {
      name: this.name,
      config: resolved.circuit,
      clock: this.clock,
      random: resolved.random,
      initialState: resolved.initialState,
      // Bound rather than an arrow: the circuit keeps it for life, and a bound function is lighter
      // than a closure and its context (bench case 5: heap per idle breaker).
      onTransition: this.onTransition.bind(this),
      onError: (error) => this.reportCallbackError(error, 'store'),
      onProbeSlotFreed: () => this.wakeOneWaiter(),
      onStoreStatus: (status, error) => {
        if (this.listeners?.has('storeStatus')) {
          this.listeners.emit('storeStatus', { breaker: this.name, status, error });
        }
      },
    };
    this.circuit = resolved.store ? resolved.store.bind(binding) : new Circuit(binding);
  }

  /** The circuit's state now (an `OPEN` circuit whose period is over reads as `HALF_OPEN`). */
  get state(): CircuitState {
    return this.circuit.state();
  }

  /** Whether `dispose()` has been called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /**
   * Runs `fn` through the breaker.
   *
   * Resolves with `fn`'s result. Rejects with `fn`'s error, a `CircuitOpenError` or
   * `BulkheadRejectedError` if the call was refused (unless a fallback answers), a `CallTimeoutError`
   * if `timeout` ran out, or a `BreakerDisposedError` after `dispose()`.
   *
   * `fn` receives an `AbortSignal` that aborts on timeout or with `options.signal`, when either is
   * set; otherwise `undefined` (nothing could abort the call, so no signal is made for it).
   */
  execute<T>(fn: Protected<T>, options?: CallOptions<T>): Promise<T> {
    return this.bulkhead === undefined ? this.run(fn, options) : this.runInBulkhead(fn, options);
  }

  /**
   * Runs `fn` synchronously through the breaker: a refused call throws (or returns the fallback)
   * at once. If `fn` returns a promise, its settlement is the outcome and a promise of the same
   * value is returned. Timeouts and half-open waits do not apply; a full bulkhead rejects at once.
   */
  executeSync<T>(fn: () => T, options?: CallOptions<T>): T {
    if (options !== undefined || this.disposed || typeof fn !== 'function') {
      const refused = this.precheck(fn, options);
      if (refused !== undefined) throw refused;
      if (options?.signal?.aborted) throw this.countAbandoned(options.signal);
    }
    let generation = this.circuit.tryAcquire();
    if (generation === ACQUIRE_ASYNC) generation = REJECTED_HALF_OPEN;
    if (generation < 0) return this.reject(generation, options) as T;
    const bulkhead = this.bulkhead;
    if (bulkhead !== undefined && !bulkhead.tryEnter()) {
      this.circuit.release(generation);
      return this.rejectByBulkhead(bulkhead, options) as T;
    }
    this.nInFlight++;
    const start = this.timing ? this.now() : NaN;
    let result: T;
    try {
      result = fn();
    } catch (error) {
      this.nInFlight--;
      bulkhead?.leave();
      return this.afterError(error, generation, start, options) as T;
    }
    let thenable: boolean;
    try {
      thenable = isThenable(result);
    } catch (error) {
      // Reading `then` threw (a revoked Proxy, say): the call failed with that error.
      this.nInFlight--;
      bulkhead?.leave();
      return this.afterError(error, generation, start, options) as T;
    }
    if (thenable) {
      return Promise.resolve(result).then(
        (value) => {
          this.nInFlight--;
          bulkhead?.leave();
          this.settleSuccess(generation, start);
          return value;
        },
        (error: unknown) => {
          this.nInFlight--;
          bulkhead?.leave();
          return this.afterError(error, generation, start, options);
        },
      ) as T;
    }
    this.nInFlight--;
    bulkhead?.leave();
    this.settleSuccess(generation, start);
    return result;
  }

  /**
   * Takes a permit for a call made outside `execute` (an `Observable`, a stream, a callback API).
   * Report the outcome on the permit exactly once; later reports are ignored. Throws a
   * `CircuitOpenError` or `BulkheadRejectedError` synchronously when the call is refused (fallbacks
   * do not apply: the caller decides what to do).
   */
  acquire(): CallPermit {
    if (this.disposed) throw new BreakerDisposedError(this.name);
    let generation = this.circuit.tryAcquire();
    if (generation === ACQUIRE_ASYNC) generation = REJECTED_HALF_OPEN;
    if (generation < 0) throw this.countRejection(this.rejectionError(generation));
    const bulkhead = this.bulkhead;
    if (bulkhead !== undefined && !bulkhead.tryEnter()) {
      this.circuit.release(generation);
      throw this.countRejection(
        new BulkheadRejectedError(this.name, bulkhead.maxConcurrent, bulkhead.maxQueue),
      );
    }
    this.nInFlight++;
    return new CallPermit(this, generation, this.timing ? this.now() : NaN);
  }

  /** A consistent snapshot of the breaker's counters and circuit. */
  stats(): BreakerStats {
    const view = this.circuit.view();
    const window = view.window;
    const rejections =
      this.nRejectedOpen +
      this.nRejectedHalfOpen +
      this.nRejectedForcedOpen +
      this.nRejectedBulkhead;
    return {
      name: this.name,
      state: view.state,
      generation: view.generation,
      calls: this.nCalls,
      successes: this.nSuccesses,
      failures: this.nFailures,
      timeouts: this.nTimeouts,
      ignored: this.nIgnored,
      rejections,
      rejectionsByReason: {
        open: this.nRejectedOpen,
        halfOpen: this.nRejectedHalfOpen,
        forcedOpen: this.nRejectedForcedOpen,
        bulkhead: this.nRejectedBulkhead,
      },
      slowCalls: this.nSlow,
      fallbacks: this.nFallbacks,
      inFlight: this.nInFlight,
      queued: this.bulkhead?.queued ?? 0,
      windowCalls: window.calls,
      failureRate: window.calls === 0 ? 0 : window.failures / window.calls,
      slowCallRate: window.calls === 0 ? 0 : window.slowCalls / window.calls,
      consecutiveFailures: view.consecutiveFailures,
      failedProbes: view.failedProbes,
      opens: this.nOpens,
      stateSince: view.since,
      openedAt: view.openedAt,
      retryAfter: view.retryAfter,
      store: this.circuit.storeStatus?.() ?? 'memory',
    };
  }

  /** The circuit's state as plain data, restorable with the `initialState` option. */
  toJSON(): CircuitSnapshot & { readonly name: string } {
    return { name: this.name, ...this.circuit.snapshot() };
  }

  /** Holds the circuit open (`FORCED_OPEN`): every call is rejected until `reset()`. */
  isolate(): void {
    this.assertUsable();
    this.circuit.transition(CircuitState.ForcedOpen, 'isolate');
  }

  /** Switches the breaker off (`DISABLED`): every call passes, outcomes are still counted. */
  disable(): void {
    this.assertUsable();
    this.circuit.transition(CircuitState.Disabled, 'disable');
  }

  /**
   * Closes the circuit and forgets the trip policy's window and the backoff. Lifetime counters in
   * `stats()` are kept. Outcomes of calls admitted before the reset no longer count.
   */
  reset(): void {
    this.assertUsable();
    this.circuit.transition(CircuitState.Closed, 'reset');
  }

  /**
   * Releases the breaker: later calls reject with `BreakerDisposedError`, as do calls waiting in the
   * bulkhead queue or for a half-open verdict; every listener is removed and no timer is left
   * behind. Calls already running finish undisturbed and are still counted. Idempotent.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.settleWaiters('verdict');
    this.bulkhead?.cancel();
    this.circuit.unbind();
    this.listeners?.clear();
  }

  /** Fires on every transition. */
  onStateChange(listener: (event: StateChangeEvent) => void): Disposable {
    return this.on('stateChange', listener);
  }

  /** Fires when the circuit opens. */
  onOpen(listener: (event: StateChangeEvent) => void): Disposable {
    return this.on('open', listener);
  }

  /** Fires when the circuit closes. */
  onClose(listener: (event: StateChangeEvent) => void): Disposable {
    return this.on('close', listener);
  }

  /** Fires when the circuit becomes half-open. */
  onHalfOpen(listener: (event: StateChangeEvent) => void): Disposable {
    return this.on('halfOpen', listener);
  }

  /** Fires for every successful call. */
  onSuccess(listener: (event: BreakerEventMap['success']) => void): Disposable {
    return this.on('success', listener);
  }

  /** Fires for every failed call. */
  onFailure(listener: (event: BreakerEventMap['failure']) => void): Disposable {
    return this.on('failure', listener);
  }

  /** Fires for every timed-out call. */
  onTimeout(listener: (event: BreakerEventMap['timeout']) => void): Disposable {
    return this.on('timeout', listener);
  }

  /** Fires for every rejected call. */
  onRejection(listener: (event: BreakerEventMap['rejection']) => void): Disposable {
    return this.on('rejection', listener);
  }

  /** Fires for every call whose error was ignored. */
  onIgnored(listener: (event: BreakerEventMap['ignored']) => void): Disposable {
    return this.on('ignored', listener);
  }

  /** Fires when a shared store becomes unreachable (`degraded`) or comes back (`shared`). */
  onStoreStatus(listener: (event: BreakerEventMap['storeStatus']) => void): Disposable {
    return this.on('storeStatus', listener);
  }

  /**
   * Subscribes to an event by name. The typed `onX` methods are shorthands for this.
   * A listener that throws is reported to `onCallbackError` and never affects the breaker.
   */
  on<K extends BreakerEventName>(
    name: K,
    listener: (event: BreakerEventMap[K]) => void,
  ): Disposable {
    if (this.disposed) return toDisposable(() => undefined);
    const listeners = (this.listeners ??= new Listeners((error) =>
      this.reportCallbackError(error, 'listener'),
    ));
    const subscription = listeners.add(name, listener);
    this.updateTiming();
    return toDisposable(() => {
      subscription.dispose();
      this.updateTiming();
    });
  }

  /** `using breaker = new Breaker(...)` disposes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---------------------------------------------------------------------------------------------
  // Running calls

  /**
   * Why `execute`/`executeSync` refuse a call before anything else, if they do: the breaker was disposed, `fn`
   * is not a function, or the call options are invalid. Such a call is not counted.
   */
  private precheck(fn: unknown, options: CallOptions<unknown> | undefined): Error | undefined {
    if (this.disposed) return new BreakerDisposedError(this.name);
    if (typeof fn !== 'function') return this.notAFunction(fn);
    return options === undefined ? undefined : this.invalidCallOptions(options);
  }

  private run<T>(fn: Protected<T>, options: CallOptions<T> | undefined): Promise<T> {
    if (options !== undefined || this.disposed || typeof fn !== 'function') {
      const refused = this.precheck(fn, options);
      if (refused !== undefined) return Promise.reject(refused);
      if (options?.signal?.aborted) return this.abandon(options.signal);
    }
    // The hot path, inline: a CLOSED circuit admits at once.
    const ticket = this.circuit.tryAcquire();
    if (ticket >= 0) return this.invoke(fn, ticket, options);
    return this.admitAndInvoke(fn, options, ticket);
  }

  /**
   * Asks the circuit, then runs the call or refuses it. With a bulkhead the caller holds a slot,
   * which the call gives back when it settles, or at once if it is refused.
   */
  private admitAndInvoke<T>(
    fn: Protected<T>,
    options: CallOptions<T> | undefined,
    ticket = this.circuit.tryAcquire(),
  ): Promise<T> {
    if (ticket >= 0) return this.invoke(fn, ticket, options);
    if (ticket === ACQUIRE_ASYNC || this.mayWaitForVerdict(ticket)) {
      return this.invokeOnceAdmitted(fn, ticket, options);
    }
    this.bulkhead?.leave();
    return this.refuse(ticket, options);
  }

  /** Admits a call the slow way (see `admitSlowly`), then runs it or refuses it. */
  private async invokeOnceAdmitted<T>(
    fn: Protected<T>,
    ticket: number,
    options: CallOptions<T> | undefined,
  ): Promise<T> {
    try {
      ticket = await this.admitSlowly(ticket, options?.signal);
    } catch (error) {
      this.bulkhead?.leave();
      throw error;
    }
    const signal = options?.signal;
    if (ticket >= 0 && signal?.aborted) {
      // The caller left while the store decided: give the slot back unused.
      this.circuit.release(ticket);
      ticket = ABANDONED;
    }
    if (ticket >= 0) return this.invoke(fn, ticket, options);
    this.bulkhead?.leave();
    if (ticket === ABANDONED) return this.abandon(signal!);
    return this.refuse(ticket, options);
  }

  /**
   * Answers a caller whose own signal aborted before its call could start: counted as ignored (the
   * caller left; the dependency was not called), rejected with the signal's reason.
   */
  private abandon<T>(signal: AbortSignal): Promise<T> {
    return Promise.resolve(rejectionWith(this.countAbandoned(signal)));
  }

  private countAbandoned(signal: AbortSignal): unknown {
    const reason: unknown = signal.reason;
    this.nCalls++;
    this.nIgnored++;
    if (this.listeners?.has('ignored')) {
      this.listeners.emit('ignored', { breaker: this.name, error: reason });
    }
    return reason;
  }

  /** A `TypeError` naming what is wrong with `options`, or `undefined` if they are valid. */
  private invalidCallOptions(options: CallOptions<unknown>): TypeError | undefined {
    if (typeof options !== 'object' || options === null) {
      return this.invalidCallOption('options', 'an object', options);
    }
    const { signal, args } = options;
    if (
      signal !== undefined &&
      (typeof signal !== 'object' ||
        signal === null ||
        typeof signal.aborted !== 'boolean' ||
        typeof signal.addEventListener !== 'function' ||
        typeof signal.removeEventListener !== 'function')
    ) {
      return this.invalidCallOption('signal', 'an AbortSignal', signal);
    }
    if (args !== undefined && !Array.isArray(args)) {
      return this.invalidCallOption('args', 'an array', args);
    }
    return undefined;
  }

  private invalidCallOption(option: string, expected: string, value: unknown): TypeError {
    return new TypeError(
      `Circuit breaker "${this.name}": call option "${option}" must be ${expected}, received ${describeValue(value)}`,
    );
  }

  /** Counts a circuit rejection, then answers with the fallback or the `CircuitOpenError`. */
  private refuse<T>(code: number, options: CallOptions<T> | undefined): Promise<T> {
    const error = this.countRejection(this.rejectionError(code));
    return Promise.resolve(this.fallbackOrReject(error, options, true));
  }

  /**
   * Runs an admitted call. Its outcome is settled by callbacks chained on its promise rather than by
   * awaiting it: an async function here would cost more than everything else the breaker does.
   */
  private invoke<T>(
    fn: Protected<T>,
    generation: number,
    options: CallOptions<T> | undefined,
  ): Promise<T> {
    if (this.timeoutMs > 0) return this.invokeWithTimeout(fn, generation, options);
    this.nInFlight++;
    const start = this.timing ? this.now() : NaN;
    let result: T | PromiseLike<T>;
    try {
      result = fn(options?.signal);
    } catch (error) {
      this.nInFlight--;
      this.bulkhead?.leave();
      return new Promise<T>((resolve) =>
        resolve(this.afterError(error, generation, start, options)),
      );
    }
    const settlers =
      options === undefined && start !== start
        ? this.sharedSettlers(generation)
        : this.settlersFor(generation, start, options);
    return Promise.resolve(result).then(settlers.onValue, settlers.onError) as Promise<T>;
  }

  /** The callbacks that settle a call admitted in `generation`, started at `start`. */
  private settlersFor(
    generation: number,
    start: number,
    options: CallOptions<unknown> | undefined,
  ): Settlers {
    return {
      generation,
      onValue: (value) => {
        this.nInFlight--;
        this.bulkhead?.leave();
        this.settleSuccess(generation, start);
        return value;
      },
      onError: (error) => {
        this.nInFlight--;
        this.bulkhead?.leave();
        return this.afterErrorAsync(error, generation, start, options);
      },
    };
  }

  /**
   * The settlers of untimed calls without options admitted in `generation`: made once per
   * generation and shared by its calls, so that the hot path allocates no closure per call.
   */
  private sharedSettlers(generation: number): Settlers {
    const shared = this.settlers;
    if (shared !== undefined && shared.generation === generation) return shared;
    return (this.settlers = this.settlersFor(generation, NaN, undefined));
  }

  private async runInBulkhead<T>(
    fn: Protected<T>,
    options: CallOptions<T> | undefined,
  ): Promise<T> {
    const refused = this.precheck(fn, options);
    if (refused !== undefined) throw refused;
    const signal = options?.signal;
    if (signal?.aborted) return this.abandon(signal);
    const bulkhead = this.bulkhead!;
    if (!bulkhead.tryEnter()) {
      // Fail fast rather than queue behind a circuit that would reject the call anyway.
      const state = this.circuit.state();
      if (state === CircuitState.Open || state === CircuitState.ForcedOpen) {
        return this.reject(
          state === CircuitState.Open ? REJECTED_OPEN : REJECTED_FORCED_OPEN,
          options,
        ) as T;
      }
      if (state === CircuitState.HalfOpen && this.options.halfOpenWaitTimeout === 0) {
        // Every probe slot taken: the circuit refuses at once, as it would with a free bulkhead.
        const ticket = this.circuit.tryAcquire();
        if (ticket === REJECTED_HALF_OPEN) return this.reject(ticket, options) as T;
        if (ticket >= 0) this.circuit.release(ticket);
      }
      if (!bulkhead.canWait()) return this.rejectByBulkhead(bulkhead, options) as T;
      const entered = await bulkhead.enter(signal);
      if (entered === 'cancelled') throw new BreakerDisposedError(this.name);
      if (entered === 'aborted') return this.abandon(signal!);
      if (this.disposed) {
        bulkhead.leave();
        throw new BreakerDisposedError(this.name);
      }
    }
    return this.admitAndInvoke(fn, options);
  }

  private invokeWithTimeout<T>(
    fn: Protected<T>,
    generation: number,
    options: CallOptions<T> | undefined,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const controller = new AbortController();
      const external = options?.signal;
      const forward = (): void => controller.abort(external!.reason);
      if (external !== undefined) {
        if (external.aborted) forward();
        else external.addEventListener('abort', forward, { once: true });
      }
      this.nInFlight++;
      const start = this.timing ? this.now() : NaN;
      let settled = false;
      const finish = (): boolean => {
        if (settled) return false;
        settled = true;
        this.nInFlight--;
        this.bulkhead?.leave();
        this.clock.clearTimeout(timer);
        external?.removeEventListener('abort', forward);
        return true;
      };
      const timer = this.clock.setTimeout(() => {
        if (!finish()) return;
        const error = new CallTimeoutError(this.name, this.timeoutMs);
        this.settleTimeout(generation, error);
        controller.abort(error);
        try {
          resolve(this.fallbackOrThrow(error, options, this.options.fallbackOnFailure) as T);
        } catch (thrown) {
          reject(thrown);
        }
      }, this.timeoutMs);
      const onValue = (value: T): void => {
        if (!finish()) return;
        this.settleSuccess(generation, start);
        resolve(value);
      };
      const onError = (error: unknown): void => {
        if (!finish()) return;
        try {
          resolve(this.afterError(error, generation, start, options) as T);
        } catch (thrown) {
          reject(thrown);
        }
      };
      let result: T | PromiseLike<T>;
      try {
        result = fn(controller.signal);
      } catch (error) {
        onError(error);
        return;
      }
      let thenable: boolean;
      try {
        thenable = isThenable(result);
      } catch (error) {
        // Reading `then` threw (a revoked Proxy, say): the call failed with that error, now.
        onError(error);
        return;
      }
      if (thenable) Promise.resolve(result).then(onValue, onError);
      else onValue(result as T);
    });
  }

  private mayWaitForVerdict(generation: number): boolean {
    return generation === REJECTED_HALF_OPEN && this.options.halfOpenWaitTimeout > 0;
  }

  /**
   * The slow road to admission: a store that must be asked asynchronously, and waiting (bounded by
   * `halfOpenWaitTimeout`) for the half-open probes' verdict. Returns a generation or a rejection.
   */
  private async admitSlowly(ticket: number, signal: AbortSignal | undefined): Promise<number> {
    if (ticket === ACQUIRE_ASYNC) ticket = await this.acquireFromStore();
    if (!this.mayWaitForVerdict(ticket) || this.disposed) return ticket;
    const deadline = this.now() + this.options.halfOpenWaitTimeout;
    for (;;) {
      const wake = await this.waitForVerdict(deadline - this.now(), signal);
      if (this.disposed) throw new BreakerDisposedError(this.name);
      if (wake === 'aborted') return ABANDONED;
      ticket = this.circuit.tryAcquire();
      if (ticket === ACQUIRE_ASYNC) ticket = await this.acquireFromStore();
      // Woken because a probe slot came free, and someone else took it first: wait on, for the
      // rest of the wait.
      if (wake !== 'slot' || ticket !== REJECTED_HALF_OPEN || this.now() >= deadline) {
        return ticket;
      }
    }
  }

  private async acquireFromStore(): Promise<number> {
    try {
      return await this.circuit.acquire!();
    } catch (error) {
      // A store that cannot decide must not lose the call or crash the caller: treat it as a full
      // half-open (the call is rejected and may be retried) and report the store's error.
      this.reportCallbackError(error, 'store');
      return REJECTED_HALF_OPEN;
    }
  }

  /**
   * Waits up to `ms` for something that may change a half-open refusal: a verdict (the circuit
   * closed or opened), a probe slot coming free, the caller's signal aborting, or time running out.
   */
  private waitForVerdict(ms: number, signal: AbortSignal | undefined): Promise<WakeReason> {
    return new Promise<WakeReason>((resolve) => {
      const waiters = (this.waiters ??= new Set());
      const onAbort = (): void => waiter.resolve('aborted');
      const waiter: VerdictWaiter = {
        resolve: (reason) => {
          if (!waiters.delete(waiter)) return;
          this.clock.clearTimeout(waiter.timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(reason);
        },
        timer: undefined,
      };
      waiters.add(waiter);
      waiter.timer = this.clock.setTimeout(() => waiter.resolve('timeout'), Math.max(0, ms));
      if (signal !== undefined) {
        if (signal.aborted) waiter.resolve('aborted');
        else signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  private settleWaiters(reason: WakeReason): void {
    const waiters = this.waiters;
    if (waiters === undefined || waiters.size === 0) return;
    for (const waiter of [...waiters]) waiter.resolve(reason);
  }

  /** A half-open probe slot came free: the longest waiter may take it. */
  private wakeOneWaiter(): void {
    const waiters = this.waiters;
    if (waiters === undefined || waiters.size === 0) return;
    waiters.values().next().value!.resolve('slot');
  }

  // ---------------------------------------------------------------------------------------------
  // Counting outcomes. Counters change before anything is emitted, so a listener reading stats()
  // sees them add up.

  /**
   * @internal Counts a fallback answer given outside `execute`/`executeSync` (for example by an
   * integration guarding an `Observable` with permits), so `stats().fallbacks` stays complete.
   */
  countFallback(): void {
    this.nFallbacks++;
  }

  /** @internal Ends a permit's call: frees its in-flight count and bulkhead slot. */
  endPermit(): void {
    this.nInFlight--;
    this.bulkhead?.leave();
  }

  /**
   * @internal Used by `CallPermit`: counts the call as timed out after the breaker's `timeout`
   * (a failure for the trip policy) and returns the error its caller receives.
   */
  settlePermitTimeout(generation: number): CallTimeoutError {
    const error = new CallTimeoutError(this.name, this.timeoutMs);
    this.settleTimeout(generation, error);
    return error;
  }

  /** @internal Used by `CallPermit`. */
  settleSuccess(generation: number, start: number): void {
    const duration = start === start ? this.now() - start : NaN;
    this.nCalls++;
    this.nSuccesses++;
    if (duration >= this.slowCallDuration) this.nSlow++;
    const listeners = this.listeners;
    if (listeners === undefined || !listeners.has('success')) {
      this.circuit.success(generation, duration);
      return;
    }
    // The event and what the circuit makes of the outcome are one step (see Listeners.hold).
    const held = listeners.hold();
    try {
      listeners.emit('success', { breaker: this.name, duration });
      this.circuit.success(generation, duration);
    } finally {
      if (held) listeners.release();
    }
  }

  private settleTimeout(generation: number, error: CallTimeoutError): void {
    this.nCalls++;
    this.nTimeouts++;
    if (this.timeoutMs >= this.slowCallDuration) this.nSlow++;
    const listeners = this.listeners;
    const heard = listeners?.has('timeout') === true;
    const held = heard && listeners!.hold();
    try {
      if (heard) listeners!.emit('timeout', { breaker: this.name, timeout: error.timeout });
      this.circuit.failure(generation, this.timeoutMs);
    } finally {
      if (held) listeners!.release();
    }
  }

  /** @internal Classifies and counts an error from an admitted call. Used by `CallPermit`. */
  settleError(error: unknown, generation: number, start: number, aborted: boolean): Outcome {
    const duration = start === start ? this.now() - start : NaN;
    const outcome = aborted ? 'ignored' : this.classify(error);
    this.nCalls++;
    if (duration >= this.slowCallDuration && outcome !== 'ignored') this.nSlow++;
    if (outcome === 'ignored') this.nIgnored++;
    else if (outcome === 'success') this.nSuccesses++;
    else this.nFailures++;
    const listeners = this.listeners;
    const heard = listeners?.has(outcome) === true;
    // The event and what the circuit makes of the outcome are one step (see Listeners.hold).
    const held = heard && listeners!.hold();
    try {
      switch (outcome) {
        case 'ignored':
          if (heard) listeners!.emit('ignored', { breaker: this.name, error });
          this.circuit.release(generation);
          break;
        case 'success':
          if (heard) listeners!.emit('success', { breaker: this.name, duration });
          this.circuit.success(generation, duration);
          break;
        case 'failure':
          if (heard) listeners!.emit('failure', { breaker: this.name, error, duration });
          this.circuit.failure(generation, duration);
          break;
      }
    } finally {
      if (held) listeners!.release();
    }
    return outcome;
  }

  /** Counts an error from an admitted call, then returns the fallback's answer or rethrows it. */
  private afterError<T>(
    error: unknown,
    generation: number,
    start: number,
    options: CallOptions<T> | undefined,
  ): T | PromiseLike<T> {
    return this.fallbackOrThrow(error, options, this.countError(error, generation, start, options));
  }

  /** `afterError` for a caller holding a promise: never throws, rejects instead. */
  private afterErrorAsync<T>(
    error: unknown,
    generation: number,
    start: number,
    options: CallOptions<T> | undefined,
  ): T | PromiseLike<T> {
    return this.fallbackOrReject(
      error,
      options,
      this.countError(error, generation, start, options),
    );
  }

  /** Counts an error from an admitted call; returns whether a fallback may answer it. */
  private countError(
    error: unknown,
    generation: number,
    start: number,
    options: CallOptions<unknown> | undefined,
  ): boolean {
    const aborted = options?.signal?.aborted === true;
    const outcome = this.settleError(error, generation, start, aborted);
    return outcome === 'failure' && this.options.fallbackOnFailure;
  }

  private classify(error: unknown): Outcome {
    const { ignore, isFailure } = this.options;
    if (ignore !== undefined) {
      try {
        if (ignore(error)) return 'ignored';
      } catch (thrown) {
        this.reportCallbackError(thrown, 'ignore');
        return 'failure';
      }
    }
    if (isFailure !== undefined) {
      try {
        return isFailure(error) ? 'failure' : 'success';
      } catch (thrown) {
        this.reportCallbackError(thrown, 'isFailure');
        return 'failure';
      }
    }
    return 'failure';
  }

  // ---------------------------------------------------------------------------------------------
  // Rejections and fallbacks

  private rejectionError(code: number): CircuitOpenError {
    const state: RejectingState =
      code === REJECTED_OPEN
        ? CircuitState.Open
        : code === REJECTED_FORCED_OPEN
          ? CircuitState.ForcedOpen
          : CircuitState.HalfOpen;
    // Half-open means "probes are running, try again soon": 0, whatever the circuit did since.
    const retryAfter =
      state === CircuitState.ForcedOpen
        ? undefined
        : state === CircuitState.HalfOpen
          ? 0
          : (this.circuit.retryAfter() ?? 0);
    return createCircuitOpenError(this.name, state, retryAfter, this.options.rejectionStackTraces);
  }

  private countRejection<E extends CircuitOpenError | BulkheadRejectedError>(error: E): E {
    this.nCalls++;
    let reason: 'open' | 'half-open' | 'forced-open' | 'bulkhead';
    if (error instanceof BulkheadRejectedError) {
      this.nRejectedBulkhead++;
      reason = 'bulkhead';
    } else {
      reason = (error as CircuitOpenError).reason;
      if (reason === 'open') this.nRejectedOpen++;
      else if (reason === 'half-open') this.nRejectedHalfOpen++;
      else this.nRejectedForcedOpen++;
    }
    if (this.listeners?.has('rejection')) {
      this.listeners.emit('rejection', { breaker: this.name, reason, error });
    }
    return error;
  }

  /** Counts a circuit rejection, then answers with the fallback or throws the `CircuitOpenError`. */
  private reject<T>(code: number, options: CallOptions<T> | undefined): T | PromiseLike<T> {
    const error = this.countRejection(this.rejectionError(code));
    return this.fallbackOrThrow(error, options, true);
  }

  private rejectByBulkhead<T>(
    bulkhead: Bulkhead,
    options: CallOptions<T> | undefined,
  ): T | PromiseLike<T> {
    const error = this.countRejection(
      new BulkheadRejectedError(this.name, bulkhead.maxConcurrent, bulkhead.maxQueue),
    );
    return this.fallbackOrThrow(error, options, true);
  }

  private fallbackOrThrow<T>(
    error: unknown,
    options: CallOptions<T> | undefined,
    allowed: boolean,
  ): T | PromiseLike<T> {
    const fallback = this.fallbackFor(options, allowed);
    if (fallback === undefined) throw error;
    return this.answerWith(fallback, error, options);
  }

  /** `fallbackOrThrow` for a caller holding a promise: never throws, rejects instead. */
  private fallbackOrReject<T>(
    error: unknown,
    options: CallOptions<T> | undefined,
    allowed: boolean,
  ): T | PromiseLike<T> {
    const fallback = this.fallbackFor(options, allowed);
    if (fallback === undefined) return rejectionWith(error);
    try {
      return this.answerWith(fallback, error, options);
    } catch (thrown) {
      return rejectionWith(thrown);
    }
  }

  /** The fallback that answers this call instead of `error`, if any applies. */
  private fallbackFor<T>(options: CallOptions<T> | undefined, allowed: boolean): unknown {
    if (!allowed) return undefined;
    const own = options?.fallback;
    return own !== undefined ? own : this.options.hasFallback ? this.options.fallback : undefined;
  }

  private answerWith<T>(
    fallback: unknown,
    error: unknown,
    options: CallOptions<T> | undefined,
  ): T | PromiseLike<T> {
    this.nFallbacks++;
    return typeof fallback === 'function'
      ? (fallback as FallbackFunction<T>)(error, options?.args ?? EMPTY_ARGS)
      : (fallback as T);
  }

  // ---------------------------------------------------------------------------------------------
  // Transitions, listeners, misc.

  private onTransition(transition: CircuitTransition): void {
    if (transition.to === CircuitState.Open) this.nOpens++;
    if (this.waiters !== undefined && this.waiters.size > 0) {
      const to = transition.to;
      if (to !== CircuitState.HalfOpen) this.settleWaiters('verdict');
    }
    const listeners = this.listeners;
    if (listeners === undefined) return;
    const event: StateChangeEvent = { breaker: this.name, ...transition };
    const to = transition.to;
    // One occurrence, two names: a transition a `stateChange` listener causes is delivered after
    // this one's `open`/`close`/`halfOpen`, in the order things happened.
    listeners.emitAs(
      'stateChange',
      to === CircuitState.Open
        ? 'open'
        : to === CircuitState.Closed
          ? 'close'
          : to === CircuitState.HalfOpen
            ? 'halfOpen'
            : undefined,
      event,
    );
  }

  private updateTiming(): void {
    const l = this.listeners;
    this.timing =
      this.slowCallDuration !== Infinity ||
      (l !== undefined && (l.has('success') || l.has('failure')));
  }

  private reportCallbackError(error: unknown, source: CallbackSource): void {
    try {
      this.options.onCallbackError(error, source, this.name);
    } catch {
      // The reporter itself threw: nothing else can be done, and the breaker is unaffected.
    }
  }

  /** The clock's reading, held at the latest one if the clock steps back. */
  private now(): number {
    const t = this.clock.now();
    if (t > this.lastReading) this.lastReading = t;
    return this.lastReading;
  }

  private assertUsable(): void {
    if (this.disposed) throw new BreakerDisposedError(this.name);
  }

  private notAFunction(value: unknown): TypeError {
    return new TypeError(
      `Circuit breaker "${this.name}": execute expects a function, received ${describeValue(value)}`,
    );
  }
}

/**
 * A permit for one call made outside `execute` (see `Breaker.acquire`). Report the outcome exactly
 * once with `success`, `failure` or `release`; anything after the first report is ignored.
 */
export class CallPermit {
  private done = false;

  /** @internal */
  constructor(
    private readonly breaker: Breaker,
    private readonly generation: number,
    private readonly start: number,
  ) {}

  /** Whether an outcome has been reported. */
  get settled(): boolean {
    return this.done;
  }

  /** The call succeeded. */
  success(): void {
    if (!this.finish()) return;
    this.breaker.settleSuccess(this.generation, this.start);
  }

  /**
   * The call failed with `error`, classified like any call (`ignore`, `isFailure`). Returns how it
   * was counted, or `undefined` if the permit had already been settled.
   */
  failure(error: unknown): Outcome | undefined {
    if (!this.finish()) return undefined;
    return this.breaker.settleError(error, this.generation, this.start, false);
  }

  /**
   * The call ran past the breaker's `timeout` (whoever timed it): counted once as a timeout, a
   * failure for the trip policy. Returns the `CallTimeoutError` to give the caller (abort or
   * unsubscribe the work yourself), or `undefined` if the permit had already been settled.
   */
  timeout(): CallTimeoutError | undefined {
    if (!this.finish()) return undefined;
    return this.breaker.settlePermitTimeout(this.generation);
  }

  /** The call ended with no verdict (cancelled, unsubscribed): counted as ignored, frees its probe slot. */
  release(): void {
    if (!this.finish()) return;
    this.breaker.settleError(undefined, this.generation, this.start, true);
  }

  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    this.breaker.endPermit();
    return true;
  }
}
