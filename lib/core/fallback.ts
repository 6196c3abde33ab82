import type { BreakerContext } from './breaker-context.js';
import { isBulkheadRejectedError, isCircuitOpenError } from './errors.js';
import type { CallOptions, FallbackFunction } from './options.js';
import type { Outcome } from './stats.js';
import { rejectionWith } from './thenable.js';

/** How a call ended, as far as its fallback is concerned (see {@link fallbackFor}). */
export type FallbackCause = 'refused' | 'timeout' | Outcome | undefined;

const EMPTY_ARGS: readonly unknown[] = Object.freeze([]);

/*
 * The fallback rules, in one place: a refused call may always be answered, a failed or timed-out
 * one if `fallbackOnFailure`; the call's own `fallback` wins over the breaker's; a function is
 * called with the error and the call's `args`, anything else is the answer itself; every answer is
 * counted in `stats().fallbacks`. An error counted as ignored, or as a success, is never replaced.
 *
 * Package-internal: functions on a breaker's context. `Breaker.fallback` exposes
 * {@link fallbackFor} to integrations that run calls under permits.
 */

/**
 * The fallback's answer to `error`, or `error` thrown when no fallback applies to `cause` (or
 * what the fallback throws). `'refused'` applies only to a `CircuitOpenError` or
 * `BulkheadRejectedError`; `undefined` (a permit already settled) never applies.
 */
export function fallbackFor<T>(
  core: BreakerContext,
  error: unknown,
  cause: FallbackCause,
  options?: CallOptions<T>,
): T | PromiseLike<T> {
  const allowed =
    cause === 'refused'
      ? isCircuitOpenError(error) || isBulkheadRejectedError(error)
      : (cause === 'failure' || cause === 'timeout') && core.options.fallbackOnFailure;
  return answerOrFail(core, error, options, allowed, false);
}

/**
 * The fallback's answer to `error` if `allowed` and one is set. Otherwise, or if the fallback
 * throws, fails with `error` (or what the fallback threw): throws it, or with `asRejection` (for a
 * caller holding a promise, which must never throw) returns a rejection instead.
 */
export function answerOrFail<T>(
  core: BreakerContext,
  error: unknown,
  options: CallOptions<T> | undefined,
  allowed: boolean,
  asRejection: boolean,
): T | PromiseLike<T> {
  const fallback = allowed ? pick(core, options) : undefined;
  if (fallback !== undefined) {
    if (!asRejection) return callFallback(core, fallback, error, options);
    try {
      return callFallback(core, fallback, error, options);
    } catch (thrown) {
      error = thrown;
    }
  }
  if (asRejection) return rejectionWith(error);
  throw error;
}

/** The fallback that answers this call instead of its error, if one is set. */
function pick<T>(core: BreakerContext, options: CallOptions<T> | undefined): unknown {
  const own = options?.fallback;
  return own !== undefined ? own : core.options.hasFallback ? core.options.fallback : undefined;
}

function callFallback<T>(
  core: BreakerContext,
  fallback: unknown,
  error: unknown,
  options: CallOptions<T> | undefined,
): T | PromiseLike<T> {
  core.countFallback();
  return typeof fallback === 'function'
    ? (fallback as FallbackFunction<T>)(error, options?.args ?? EMPTY_ARGS)
    : (fallback as T);
}
