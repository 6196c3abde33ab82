import type { BreakerContext } from './breaker-context.js';
import { CallTimeoutError } from './errors.js';
import type { Fallbacks } from './fallback.js';
import type { CallOptions } from './options.js';
import type { Counters, Outcome } from './stats.js';
import type { CircuitHandle } from './store/circuit-store.js';

/** How a call's promise is settled: the breaker counts the outcome, then passes it on. */
export interface Settlers {
  readonly ticket: number;
  readonly onValue: (value: unknown) => unknown;
  readonly onError: (error: unknown) => unknown;
}

/**
 * Settles admitted calls: ends a running call (its in-flight count and bulkhead slot, in one
 * place), classifies its error (`ignore`, `isFailure`), counts the outcome, emits its event and
 * tells the circuit. Every call `begin()` started is ended by exactly one of `success`, `error` or
 * `timeout`.
 *
 * Package-internal: one per breaker, made in its constructor.
 */
export class Outcomes {
  /** The shared settlers of the latest generation (see {@link sharedSettlers}). */
  private settlers: Settlers | undefined = undefined;
  private readonly counters: Counters;

  constructor(
    private readonly ctx: BreakerContext,
    private readonly circuit: CircuitHandle,
    private readonly fallbacks: Fallbacks,
  ) {
    this.counters = ctx.counters;
  }

  /** Starts an admitted call: counts it in flight; returns its start reading (`NaN` if untimed). */
  begin(): number {
    const ctx = this.ctx;
    this.counters.callStarted();
    return ctx.timing ? ctx.now() : NaN;
  }

  /** The call admitted with `ticket`, started at `start`, succeeded. */
  success(ticket: number, start: number): void {
    this.end();
    const ctx = this.ctx;
    const duration = start === start ? ctx.now() - start : NaN;
    this.counters.countSettled('success', duration);
    const listeners = ctx.listeners;
    if (listeners === undefined || !listeners.has('success')) {
      this.circuit.success(ticket, duration);
      return;
    }
    // The event and what the circuit makes of the outcome are one step (see Listeners.hold).
    const held = listeners.hold();
    try {
      listeners.emit('success', { breaker: ctx.name, duration });
      this.circuit.success(ticket, duration);
    } finally {
      if (held) listeners.release();
    }
  }

  /**
   * The call ran past the breaker's `timeout`: counted as a timeout, a failure for the circuit.
   * Returns the error its caller receives.
   */
  timeout(ticket: number): CallTimeoutError {
    this.end();
    const ctx = this.ctx;
    const error = new CallTimeoutError(ctx.name, ctx.timeoutMs);
    this.counters.countTimeout(ctx.timeoutMs);
    const listeners = ctx.listeners;
    const heard = listeners?.has('timeout') === true;
    const held = heard && listeners!.hold();
    try {
      if (heard) listeners!.emit('timeout', { breaker: ctx.name, timeout: error.timeout });
      this.circuit.failure(ticket, ctx.timeoutMs);
    } finally {
      if (held) listeners!.release();
    }
    return error;
  }

  /**
   * The call ended with `error` (or, `aborted`, with no verdict: its caller cancelled it).
   * Classifies and counts it; returns how it was counted.
   */
  error(error: unknown, ticket: number, start: number, aborted: boolean): Outcome {
    this.end();
    const ctx = this.ctx;
    const duration = start === start ? ctx.now() - start : NaN;
    const outcome = aborted ? 'ignored' : this.classify(error);
    this.counters.countSettled(outcome, duration);
    const listeners = ctx.listeners;
    const heard = listeners?.has(outcome) === true;
    // The event and what the circuit makes of the outcome are one step (see Listeners.hold).
    const held = heard && listeners!.hold();
    try {
      switch (outcome) {
        case 'ignored':
          if (heard) listeners!.emit('ignored', { breaker: ctx.name, error });
          this.circuit.release(ticket);
          break;
        case 'success':
          if (heard) listeners!.emit('success', { breaker: ctx.name, duration });
          this.circuit.success(ticket, duration);
          break;
        case 'failure':
          if (heard) listeners!.emit('failure', { breaker: ctx.name, error, duration });
          this.circuit.failure(ticket, duration);
          break;
      }
    } finally {
      if (held) listeners!.release();
    }
    return outcome;
  }

  /**
   * A caller whose own signal aborted before its call could start: counted as ignored (the caller
   * left; the dependency was not called). Returns the signal's reason, the caller's rejection.
   */
  abandoned(signal: AbortSignal): unknown {
    const reason: unknown = signal.reason;
    const ctx = this.ctx;
    this.counters.countSettled('ignored', NaN);
    if (ctx.listeners?.has('ignored')) {
      ctx.listeners.emit('ignored', { breaker: ctx.name, error: reason });
    }
    return reason;
  }

  /**
   * Settles an error from an admitted call, then answers with the fallback or fails: throws, or
   * with `asRejection` (a caller holding a promise) returns a rejection instead.
   */
  afterError<T>(
    error: unknown,
    ticket: number,
    start: number,
    options: CallOptions<T> | undefined,
    asRejection: boolean,
  ): T | PromiseLike<T> {
    const aborted = options?.signal?.aborted === true;
    const outcome = this.error(error, ticket, start, aborted);
    const allowed = outcome === 'failure' && this.ctx.options.fallbackOnFailure;
    return this.fallbacks.answer(error, options, allowed, asRejection);
  }

  /** The callbacks that settle a call admitted with `ticket`, started at `start`. */
  settlersFor(ticket: number, start: number, options: CallOptions<unknown> | undefined): Settlers {
    return {
      ticket,
      onValue: (value) => {
        this.success(ticket, start);
        return value;
      },
      onError: (error) => this.afterError(error, ticket, start, options, true),
    };
  }

  /**
   * The settlers of untimed calls without options admitted with `ticket`: made once per
   * generation and shared by its calls, so that the hot path allocates no closure per call.
   */
  sharedSettlers(ticket: number): Settlers {
    const shared = this.settlers;
    if (shared !== undefined && shared.ticket === ticket) return shared;
    return (this.settlers = this.settlersFor(ticket, NaN, undefined));
  }

  /** Ends a running call: the one place its in-flight count and bulkhead slot are given back. */
  private end(): void {
    this.counters.callEnded();
    this.ctx.bulkhead?.leave();
  }

  private classify(error: unknown): Outcome {
    const { ignore, isFailure } = this.ctx.options;
    if (ignore !== undefined) {
      try {
        if (ignore(error)) return 'ignored';
      } catch (thrown) {
        this.ctx.report(thrown, 'ignore');
        return 'failure';
      }
    }
    if (isFailure !== undefined) {
      try {
        return isFailure(error) ? 'failure' : 'success';
      } catch (thrown) {
        this.ctx.report(thrown, 'isFailure');
        return 'failure';
      }
    }
    return 'failure';
  }
}
