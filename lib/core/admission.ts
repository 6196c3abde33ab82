import type { BreakerContext } from './breaker-context.js';
import { CircuitState, type RejectingState } from './circuit-state.js';
import {
  BreakerDisposedError,
  BulkheadRejectedError,
  type CircuitOpenError,
  createCircuitOpenError,
} from './errors.js';
import type { Fallbacks } from './fallback.js';
import type { CallOptions } from './options.js';
import type { Outcomes } from './outcomes.js';
import {
  ACQUIRE_ASYNC,
  type CircuitHandle,
  REJECTED_FORCED_OPEN,
  REJECTED_HALF_OPEN,
  REJECTED_OPEN,
} from './store/circuit-store.js';
import { rejectionWith } from './thenable.js';
import type { Protected } from './timed-call.js';
import { describeValue } from './describe.js';

/** Runs an admitted call (the breaker's hot path). */
export type Invoke = <T>(
  fn: Protected<T>,
  ticket: number,
  options: CallOptions<T> | undefined,
) => Promise<T>;

/** `admitSlowly` result: the caller's own signal aborted while it waited. */
const ABANDONED = -100;

/**
 * Decides whether a call may run, when the hot path (a CLOSED circuit admitting at once) does not:
 * the checks made before anything else, a full bulkhead and its queue, the circuit's answer from a
 * store asked asynchronously or after waiting for the half-open verdict, and refusals: their
 * error, their count, and the fallback that may answer them. An admitted call goes back to the
 * breaker's `invoke`.
 *
 * Package-internal: one per breaker, made in its constructor.
 */
export class Admission {
  constructor(
    private readonly ctx: BreakerContext,
    private readonly circuit: CircuitHandle,
    private readonly outcomes: Outcomes,
    private readonly fallbacks: Fallbacks,
    private readonly invoke: Invoke,
  ) {}

  /**
   * Runs a call refused with `ticket` by a first `tryAcquire` (or asks the circuit now): invokes it
   * once admitted, or refuses it. With a bulkhead the caller holds a slot, which the call gives back
   * when it settles, or at once if it is refused.
   */
  admitAndInvoke<T>(
    fn: Protected<T>,
    options: CallOptions<T> | undefined,
    ticket = this.circuit.tryAcquire(),
  ): Promise<T> {
    if (ticket >= 0) return this.invoke(fn, ticket, options);
    if (ticket === ACQUIRE_ASYNC || this.mayWaitForVerdict(ticket)) {
      return this.invokeOnceAdmitted(fn, ticket, options);
    }
    this.ctx.bulkhead?.leave();
    return this.refuse(ticket, options);
  }

  /** `execute` with a bulkhead: takes a slot (or waits for one, or refuses), then admits the call. */
  async runInBulkhead<T>(fn: Protected<T>, options: CallOptions<T> | undefined): Promise<T> {
    const refused = this.precheck(fn, options);
    if (refused !== undefined) throw refused;
    const signal = options?.signal;
    if (signal?.aborted) return this.abandon(signal);
    const ctx = this.ctx;
    const bulkhead = ctx.bulkhead!;
    if (!bulkhead.tryEnter()) {
      // Fail fast rather than queue behind a circuit that would reject the call anyway.
      const code = this.refusalBeforeQueueing();
      if (code !== undefined) return this.reject(code, options) as T;
      if (!bulkhead.canWait()) return this.rejectByBulkhead(options) as T;
      const entered = await bulkhead.enter(signal);
      if (entered === 'cancelled') throw new BreakerDisposedError(ctx.name);
      if (entered === 'aborted') return this.abandon(signal!);
      if (ctx.disposed) {
        bulkhead.leave();
        throw new BreakerDisposedError(ctx.name);
      }
    }
    return this.admitAndInvoke(fn, options);
  }

  /**
   * Answers a caller whose own signal aborted before its call could start: counted as ignored (the
   * caller left; the dependency was not called), rejected with the signal's reason.
   */
  abandon<T>(signal: AbortSignal): Promise<T> {
    return Promise.resolve(rejectionWith(this.outcomes.abandoned(signal)));
  }

  /**
   * Why `execute`/`executeSync` refuse a call before anything else, if they do: the breaker was
   * disposed, `fn` is not a function, or the call options are invalid. Such a call is not counted.
   */
  precheck(fn: unknown, options: CallOptions<unknown> | undefined): Error | undefined {
    if (this.ctx.disposed) return new BreakerDisposedError(this.ctx.name);
    if (typeof fn !== 'function') {
      return new TypeError(
        `Circuit breaker "${this.ctx.name}": execute expects a function, received ${describeValue(fn)}`,
      );
    }
    return options === undefined ? undefined : this.invalidCallOptions(options);
  }

  /** Counts a circuit refusal; returns its `CircuitOpenError`. */
  refusal(code: number): CircuitOpenError {
    return this.counted(this.rejectionError(code));
  }

  /** Counts a bulkhead refusal; returns its `BulkheadRejectedError`. */
  bulkheadRefusal(): BulkheadRejectedError {
    const bulkhead = this.ctx.bulkhead!;
    return this.counted(
      new BulkheadRejectedError(this.ctx.name, bulkhead.maxConcurrent, bulkhead.maxQueue),
    );
  }

  /** Counts a circuit refusal, then answers with the fallback or throws the `CircuitOpenError`. */
  reject<T>(code: number, options: CallOptions<T> | undefined): T | PromiseLike<T> {
    return this.fallbacks.orThrow(this.refusal(code), options, true);
  }

  /** `reject` for a caller holding a promise: never throws, rejects instead. */
  private refuse<T>(code: number, options: CallOptions<T> | undefined): Promise<T> {
    return Promise.resolve(this.fallbacks.answer(this.refusal(code), options, true, true));
  }

  /** Counts a bulkhead refusal, then answers with the fallback or throws its error. */
  rejectByBulkhead<T>(options: CallOptions<T> | undefined): T | PromiseLike<T> {
    return this.fallbacks.orThrow(this.bulkheadRefusal(), options, true);
  }

  /** Admits a call the slow way (see `admitSlowly`), then runs it or refuses it. */
  private async invokeOnceAdmitted<T>(
    fn: Protected<T>,
    ticket: number,
    options: CallOptions<T> | undefined,
  ): Promise<T> {
    const bulkhead = this.ctx.bulkhead;
    try {
      ticket = await this.admitSlowly(ticket, options?.signal);
    } catch (error) {
      bulkhead?.leave();
      throw error;
    }
    const signal = options?.signal;
    if (ticket >= 0 && signal?.aborted) {
      // The caller left while the store decided: give the slot back unused.
      this.circuit.release(ticket);
      ticket = ABANDONED;
    }
    if (ticket >= 0) return this.invoke(fn, ticket, options);
    bulkhead?.leave();
    if (ticket === ABANDONED) return this.abandon(signal!);
    return this.refuse(ticket, options);
  }

  /**
   * The slow road to admission: a store that must be asked asynchronously, and waiting (bounded by
   * `halfOpenWaitTimeout`) for the half-open probes' verdict. Returns a ticket, a rejection, or
   * {@link ABANDONED}.
   */
  private async admitSlowly(ticket: number, signal: AbortSignal | undefined): Promise<number> {
    const ctx = this.ctx;
    if (ticket === ACQUIRE_ASYNC) ticket = await this.acquireFromStore();
    if (!this.mayWaitForVerdict(ticket) || ctx.disposed) return ticket;
    const deadline = ctx.now() + ctx.options.halfOpenWaitTimeout;
    for (;;) {
      const wake = await ctx.waiters.wait(deadline - ctx.now(), signal);
      if (ctx.disposed) throw new BreakerDisposedError(ctx.name);
      if (wake === 'aborted') return ABANDONED;
      ticket = this.circuit.tryAcquire();
      if (ticket === ACQUIRE_ASYNC) ticket = await this.acquireFromStore();
      // Woken because a probe slot came free, and someone else took it first: wait on, for the
      // rest of the wait.
      if (wake !== 'slot' || ticket !== REJECTED_HALF_OPEN || ctx.now() >= deadline) {
        return ticket;
      }
    }
  }

  /**
   * A call found the bulkhead full: the circuit's refusal code if it would refuse the call anyway
   * (so the call fails fast rather than queue), otherwise `undefined`.
   */
  private refusalBeforeQueueing(): number | undefined {
    const state = this.circuit.state();
    if (state === CircuitState.Open) return REJECTED_OPEN;
    if (state === CircuitState.ForcedOpen) return REJECTED_FORCED_OPEN;
    if (state === CircuitState.HalfOpen && this.ctx.options.halfOpenWaitTimeout === 0) {
      // Every probe slot taken: the circuit refuses at once, as it would with a free bulkhead.
      const ticket = this.circuit.tryAcquire();
      if (ticket === REJECTED_HALF_OPEN) return ticket;
      if (ticket >= 0) this.circuit.release(ticket);
    }
    return undefined;
  }

  private mayWaitForVerdict(ticket: number): boolean {
    return ticket === REJECTED_HALF_OPEN && this.ctx.options.halfOpenWaitTimeout > 0;
  }

  private async acquireFromStore(): Promise<number> {
    try {
      return await this.circuit.acquire!();
    } catch (error) {
      // A store that cannot decide must not lose the call or crash the caller: treat it as a full
      // half-open (the call is rejected and may be retried) and report the store's error.
      this.ctx.report(error, 'store');
      return REJECTED_HALF_OPEN;
    }
  }

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
    const ctx = this.ctx;
    return createCircuitOpenError(ctx.name, state, retryAfter, ctx.options.rejectionStackTraces);
  }

  private counted<E extends CircuitOpenError | BulkheadRejectedError>(error: E): E {
    const reason =
      error instanceof BulkheadRejectedError ? 'bulkhead' : (error as CircuitOpenError).reason;
    const ctx = this.ctx;
    ctx.counters.countRejection(reason);
    if (ctx.listeners?.has('rejection')) {
      ctx.listeners.emit('rejection', { breaker: ctx.name, reason, error });
    }
    return error;
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
      `Circuit breaker "${this.ctx.name}": call option "${option}" must be ${expected}, received ${describeValue(value)}`,
    );
  }
}
