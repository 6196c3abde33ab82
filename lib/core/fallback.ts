import { isBulkheadRejectedError, isCircuitOpenError } from './errors.js';
import type { CallOptions, FallbackFunction } from './options.js';
import type { Counters, Outcome } from './stats.js';
import { rejectionWith } from './thenable.js';
import type { ResolvedBreakerOptions } from './resolved-options.js';

/** How a call ended, as far as its fallback is concerned (see {@link Fallbacks.forCause}). */
export type FallbackCause = 'refused' | 'timeout' | Outcome | undefined;

const EMPTY_ARGS: readonly unknown[] = Object.freeze([]);

/**
 * The fallback rules, in one place: a refused call may always be answered, a failed or timed-out
 * one if `fallbackOnFailure`; the call's own `fallback` wins over the breaker's; a function is
 * called with the error and the call's `args`, anything else is the answer itself; every answer is
 * counted in `stats().fallbacks`. An error counted as ignored, or as a success, is never replaced.
 *
 * Package-internal: one per breaker, made in its constructor. `Breaker.fallback` exposes
 * {@link forCause} to integrations that run calls under permits.
 */
export class Fallbacks {
  constructor(
    private readonly counters: Counters,
    private readonly options: ResolvedBreakerOptions,
  ) {}

  /**
   * The fallback's answer to `error`, or `error` thrown when no fallback applies to `cause` (or
   * what the fallback throws). `'refused'` applies only to a `CircuitOpenError` or
   * `BulkheadRejectedError`; `undefined` (a permit already settled) never applies.
   */
  forCause<T>(error: unknown, cause: FallbackCause, options?: CallOptions<T>): T | PromiseLike<T> {
    const allowed =
      cause === 'refused'
        ? isCircuitOpenError(error) || isBulkheadRejectedError(error)
        : (cause === 'failure' || cause === 'timeout') && this.options.fallbackOnFailure;
    return this.orThrow(error, options, allowed);
  }

  /** The fallback's answer to `error` if `allowed` and one is set; otherwise throws `error`. */
  orThrow<T>(
    error: unknown,
    options: CallOptions<T> | undefined,
    allowed: boolean,
  ): T | PromiseLike<T> {
    return this.answer(error, options, allowed, false);
  }

  /**
   * The fallback's answer to `error` if `allowed` and one is set. Otherwise, or if the fallback
   * throws, fails with `error` (or what the fallback threw): throws it, or with `asRejection` (for a
   * caller holding a promise, which must never throw) returns a rejection instead.
   */
  answer<T>(
    error: unknown,
    options: CallOptions<T> | undefined,
    allowed: boolean,
    asRejection: boolean,
  ): T | PromiseLike<T> {
    const fallback = this.pick(options, allowed);
    if (fallback !== undefined) {
      if (!asRejection) return this.call(fallback, error, options);
      try {
        return this.call(fallback, error, options);
      } catch (thrown) {
        error = thrown;
      }
    }
    if (asRejection) return rejectionWith(error);
    throw error;
  }

  /** The fallback that answers this call instead of its error, if any applies. */
  private pick<T>(options: CallOptions<T> | undefined, allowed: boolean): unknown {
    if (!allowed) return undefined;
    const own = options?.fallback;
    return own !== undefined ? own : this.options.hasFallback ? this.options.fallback : undefined;
  }

  private call<T>(
    fallback: unknown,
    error: unknown,
    options: CallOptions<T> | undefined,
  ): T | PromiseLike<T> {
    this.counters.countFallback();
    return typeof fallback === 'function'
      ? (fallback as FallbackFunction<T>)(error, options?.args ?? EMPTY_ARGS)
      : (fallback as T);
  }
}
