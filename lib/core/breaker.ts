import {
  abandon,
  admitAndInvoke,
  bulkheadRefusal,
  precheck,
  refusal,
  reject,
  rejectByBulkhead,
  runInBulkhead,
} from './admission.js';
import { BreakerContext } from './breaker-context.js';
import { CallPermit } from './call-permit.js';
import { CircuitState } from './circuit-state.js';
import { BreakerDisposedError } from './errors.js';
import {
  type BreakerEventMap,
  type BreakerEventName,
  type Disposable,
  Listeners,
  type StateChangeEvent,
  toDisposable,
} from './events.js';
import { type FallbackCause, fallbackFor } from './fallback.js';
import type { BreakerOptions, CallOptions } from './options.js';
import {
  afterError,
  settleAbandoned,
  beginCall,
  settleSuccess,
  settlersFor,
  sharedSettlers,
} from './outcomes.js';
import type { CircuitSnapshot } from './snapshot.js';
import type { BreakerStats } from './stats.js';
import { isThenable } from './thenable.js';
import { type Protected, runTimed } from './timed-call.js';
import type { ResolvedBreakerOptions } from './resolved-options.js';
import { resolveBreakerOptions } from './validate-options.js';
import { wakeAll } from './verdict-waiters.js';

export { CallPermit } from './call-permit.js';
export type { FallbackCause } from './fallback.js';
export type { Outcome } from './stats.js';
export type { Protected } from './timed-call.js';

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
 *
 * This file is the facade and the hot path of a call. A breaker's state is one
 * {@link BreakerContext} (its counters are that object's base class), made in the constructor;
 * the jobs are functions taking it, one file each: outcomes.ts (settling and counting),
 * fallback.ts, admission.ts and verdict-waiters.ts (refusals, the async store path, half-open
 * waiting), timed-call.ts. An idle breaker is two objects (this facade and its context), plus its
 * circuit.
 */
export class Breaker {
  // Every field is set in the constructor, so that a breaker keeps one shape (hidden class) for
  // life: a field added on first use would make every call site see two.
  private readonly ctx: BreakerContext;

  /** @throws BreakerOptionsError if an option is invalid. */
  constructor(options: BreakerOptions) {
    this.ctx = new BreakerContext(resolveBreakerOptions(options));
  }

  /** The breaker's name. */
  get name(): string {
    return this.ctx.name;
  }

  /** The validated options, with defaults applied. */
  get options(): ResolvedBreakerOptions {
    return this.ctx.options;
  }

  /** The circuit's state now (an `OPEN` circuit whose period is over reads as `HALF_OPEN`). */
  get state(): CircuitState {
    return this.ctx.circuit.state();
  }

  /** Whether `dispose()` has been called. */
  get isDisposed(): boolean {
    return this.ctx.disposed;
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
    const ctx = this.ctx;
    return ctx.bulkhead === undefined
      ? run(ctx, fn, options)
      : runInBulkhead(ctx, invoke, fn, options);
  }

  /**
   * Runs `fn` synchronously through the breaker: a refused call throws (or returns the fallback)
   * at once. If `fn` returns a promise, its settlement is the outcome and a promise of the same
   * value is returned. Timeouts and half-open waits do not apply; a full bulkhead rejects at once.
   */
  executeSync<T>(fn: () => T, options?: CallOptions<T>): T {
    const ctx = this.ctx;
    if (options !== undefined || ctx.disposed || typeof fn !== 'function') {
      const refused = precheck(ctx, fn, options);
      if (refused !== undefined) throw refused;
      if (options?.signal?.aborted) throw settleAbandoned(ctx, options.signal);
    }
    const circuit = ctx.circuit;
    // ACQUIRE_ASYNC (a store that decides only asynchronously) is refused as a full half-open.
    const generation = circuit.tryAcquire();
    if (generation < 0) return reject(ctx, generation, options) as T;
    if (ctx.bulkhead !== undefined && !ctx.bulkhead.tryEnter()) {
      circuit.release(generation);
      return rejectByBulkhead(ctx, options) as T;
    }
    const start = beginCall(ctx);
    let result: T;
    let thenable: boolean;
    try {
      result = fn();
      // Reading `then` can throw (a revoked Proxy, say): the call failed with that error.
      thenable = isThenable(result);
    } catch (error) {
      return afterError(ctx, error, generation, start, options, false) as T;
    }
    if (thenable) {
      return Promise.resolve(result).then(
        (value) => {
          settleSuccess(ctx, generation, start);
          return value;
        },
        (error: unknown) => afterError(ctx, error, generation, start, options, false),
      ) as T;
    }
    settleSuccess(ctx, generation, start);
    return result;
  }

  /**
   * Takes a permit for a call made outside `execute` (an `Observable`, a stream, a callback API).
   * Report the outcome on the permit exactly once; later reports are ignored. Throws a
   * `CircuitOpenError` or `BulkheadRejectedError` synchronously when the call is refused (fallbacks
   * do not apply: the caller decides what to do, and may answer with {@link fallback}).
   */
  acquire(): CallPermit {
    const ctx = this.ctx;
    if (ctx.disposed) throw new BreakerDisposedError(this.name);
    const circuit = ctx.circuit;
    // ACQUIRE_ASYNC (a store that decides only asynchronously) is refused as a full half-open.
    const generation = circuit.tryAcquire();
    if (generation < 0) throw refusal(ctx, generation);
    if (ctx.bulkhead !== undefined && !ctx.bulkhead.tryEnter()) {
      circuit.release(generation);
      throw bulkheadRefusal(ctx);
    }
    return new CallPermit(ctx, generation, beginCall(ctx));
  }

  /**
   * Answers `error` with a fallback by the rules `execute` follows, for calls run outside it (under
   * a permit from {@link acquire}): the call's own `options.fallback`, else the breaker's `fallback`
   * option, called with `error` and `options.args` (default `[]`) if it is a function, and counted
   * in `stats().fallbacks`.
   *
   * `cause` says how the call ended: `'refused'` for the error `acquire()` threw (answered when it
   * is a `CircuitOpenError` or `BulkheadRejectedError`), `'timeout'`, or the outcome a permit's
   * `failure()` returned (`'failure'`; a timeout or failure is answered only if `fallbackOnFailure`).
   * An `'ignored'` or `'success'` outcome, or `undefined` (the permit was already settled), is
   * never answered.
   *
   * Returns the fallback's answer (a promise if the fallback returns one). Throws `error` when no
   * fallback applies, or what the fallback throws.
   */
  fallback<T = unknown>(
    error: unknown,
    cause: FallbackCause,
    options?: CallOptions<T>,
  ): T | PromiseLike<T> {
    return fallbackFor(this.ctx, error, cause, options);
  }

  /** A consistent snapshot of the breaker's counters and circuit. */
  stats(): BreakerStats {
    const ctx = this.ctx;
    const circuit = ctx.circuit;
    const view = circuit.view();
    const queued = ctx.bulkhead?.queued ?? 0;
    const store = circuit.storeStatus?.() ?? 'memory';
    return ctx.snapshot(this.name, view, queued, store);
  }

  /** The circuit's state as plain data, restorable with the `initialState` option. */
  toJSON(): CircuitSnapshot & { readonly name: string } {
    return { name: this.name, ...this.ctx.circuit.snapshot() };
  }

  /** Holds the circuit open (`FORCED_OPEN`): every call is rejected until `reset()`. */
  isolate(): void {
    this.assertUsable();
    this.ctx.circuit.transition(CircuitState.ForcedOpen, 'isolate');
  }

  /** Switches the breaker off (`DISABLED`): every call passes, outcomes are still counted. */
  disable(): void {
    this.assertUsable();
    this.ctx.circuit.transition(CircuitState.Disabled, 'disable');
  }

  /**
   * Closes the circuit and forgets the trip policy's window and the backoff. Lifetime counters in
   * `stats()` are kept. Outcomes of calls admitted before the reset no longer count.
   */
  reset(): void {
    this.assertUsable();
    this.ctx.circuit.transition(CircuitState.Closed, 'reset');
  }

  /**
   * Releases the breaker: later calls reject with `BreakerDisposedError`, as do calls waiting in the
   * bulkhead queue or for a half-open verdict; every listener is removed and no timer is left
   * behind. Calls already running finish undisturbed and are still counted. Idempotent.
   */
  dispose(): void {
    const ctx = this.ctx;
    if (ctx.disposed) return;
    ctx.disposed = true;
    wakeAll(ctx, 'verdict');
    ctx.bulkhead?.cancel();
    ctx.circuit.unbind();
    ctx.listeners?.clear();
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
    const ctx = this.ctx;
    if (ctx.disposed) return toDisposable(() => undefined);
    const listeners = (ctx.listeners ??= new Listeners((error) => ctx.report(error, 'listener')));
    const subscription = listeners.add(name, listener);
    ctx.updateTiming();
    return toDisposable(() => {
      subscription.dispose();
      ctx.updateTiming();
    });
  }

  /** `using breaker = new Breaker(...)` disposes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---------------------------------------------------------------------------------------------
  // Misc.

  private assertUsable(): void {
    if (this.ctx.disposed) throw new BreakerDisposedError(this.name);
  }
}

// -----------------------------------------------------------------------------------------------
// Running calls: the hot path, as functions on the breaker's context (no per-breaker closure).

function run<T>(
  ctx: BreakerContext,
  fn: Protected<T>,
  options: CallOptions<T> | undefined,
): Promise<T> {
  if (options !== undefined || ctx.disposed || typeof fn !== 'function') {
    const refused = precheck(ctx, fn, options);
    if (refused !== undefined) return Promise.reject(refused);
    if (options?.signal?.aborted) return abandon(ctx, options.signal);
  }
  // The hot path, inline: a CLOSED circuit admits at once.
  const ticket = ctx.circuit.tryAcquire();
  if (ticket >= 0) return invoke(ctx, fn, ticket, options);
  return admitAndInvoke(ctx, invoke, fn, options, ticket);
}

/**
 * Runs an admitted call. Its outcome is settled by callbacks chained on its promise rather than by
 * awaiting it: an async function here would cost more than everything else the breaker does.
 */
function invoke<T>(
  ctx: BreakerContext,
  fn: Protected<T>,
  generation: number,
  options: CallOptions<T> | undefined,
): Promise<T> {
  if (ctx.timeoutMs > 0) return runTimed(ctx, fn, generation, options);
  const start = beginCall(ctx);
  let result: T | PromiseLike<T>;
  try {
    result = fn(options?.signal);
  } catch (error) {
    return thrownAsRejection(ctx, error, generation, start, options);
  }
  const settlers =
    options === undefined && start !== start
      ? sharedSettlers(ctx, generation)
      : settlersFor(ctx, generation, start, options);
  return Promise.resolve(result).then(settlers.onValue, settlers.onError) as Promise<T>;
}

/**
 * A call whose function threw instead of returning: settled like a rejection, answered with a
 * promise. Its own function, so that `invoke` holds no closure: a closure there would make V8
 * allocate a context for `invoke`'s variables on every call (64 B, bench case 4).
 */
function thrownAsRejection<T>(
  ctx: BreakerContext,
  error: unknown,
  generation: number,
  start: number,
  options: CallOptions<T> | undefined,
): Promise<T> {
  return new Promise<T>((resolve) =>
    resolve(afterError(ctx, error, generation, start, options, false)),
  );
}
