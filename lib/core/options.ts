import type { BackoffFunction, BackoffOptions } from './backoff-options.js';
import type { Clock } from './clock.js';
import type { TripPolicyName } from './policies/policy-name.js';
import type { CircuitSnapshot } from './snapshot.js';
import type { CircuitStore } from './store/circuit-store.js';

// Declared beside what they describe, below the options (which the stores' types depend on), and
// part of the options' vocabulary: users import them from here as before.
export type { BackoffFunction, BackoffOptions } from './backoff-options.js';
export type { TripPolicyName } from './policies/policy-name.js';

/**
 * A fallback computed from the error the caller would otherwise receive and the call's arguments
 * (`CallOptions.args`, or the decorated method's arguments). It may return a promise.
 */
export type FallbackFunction<T = unknown> = (
  error: unknown,
  args: readonly unknown[],
) => T | PromiseLike<T>;

/** Error classes, or a predicate, selecting errors. */
export type ErrorFilter =
  ((error: unknown) => boolean) | ReadonlyArray<abstract new (...args: never[]) => unknown>;

/** Where a callback supplied in options or as a listener threw. */
export type CallbackSource = 'listener' | 'isFailure' | 'ignore' | 'store';

/**
 * Options of one breaker. Every duration is in milliseconds. Invalid options throw a
 * `BreakerOptionsError` from the constructor, naming the breaker and the option.
 */
export interface BreakerOptions {
  /** The breaker's name: appears in errors, events and stats. Required, non-empty. */
  name: string;

  /** How the circuit decides to open. See {@link TripPolicyName}. @default 'consecutive' */
  policy?: TripPolicyName;
  /** `consecutive` policy: failures in a row that open the circuit. Integer >= 1. @default 5 */
  failureThreshold?: number;
  /** `count-window` and `slow-call` policies: number of most recent calls in the window. Integer >= 1. @default 100 */
  windowSize?: number;
  /** `time-window` policy: length of the window in milliseconds. @default 60_000 */
  windowDuration?: number;
  /** `time-window` policy: buckets the window is divided into; it slides one bucket at a time. Integer >= 1. @default 10 */
  windowBuckets?: number;
  /**
   * Window policies: calls the window must hold before a rate can open the circuit. Integer >= 1,
   * at most `windowSize` for count windows. @default 10, or `windowSize` for a count window of
   * fewer calls
   */
  minimumCalls?: number;
  /**
   * Window policies: failure rate that opens the circuit, as a fraction in (0, 1]; 0.5 means 50%.
   * @default 0.5
   */
  failureRateThreshold?: number;
  /** `slow-call` policy (required there): a call taking at least this long, in milliseconds, is slow. */
  slowCallDuration?: number;
  /** `slow-call` policy: share of slow calls that opens the circuit, in (0, 1]. @default 0.5 */
  slowCallRateThreshold?: number;

  /** How long the circuit stays open before probes may go, in milliseconds. @default 30_000 */
  openDuration?: number;
  /**
   * Lengthen the open period after each failed probe: `false` (fixed `openDuration`),
   * {@link BackoffOptions} for exponential backoff with jitter and a cap, or a {@link BackoffFunction}.
   * @default false
   */
  backoff?: false | BackoffOptions | BackoffFunction;
  /**
   * Probe calls admitted in `HALF_OPEN`; all must succeed to close the circuit, one failure re-opens
   * it. Integer >= 1. @default 1
   */
  halfOpenMaxCalls?: number;
  /**
   * When every probe slot is taken, how long other callers wait for the probes' verdict before being
   * rejected, in milliseconds; `0` rejects them at once. If the circuit closes in time they proceed.
   * @default 0
   */
  halfOpenWaitTimeout?: number;
  /**
   * How long a probe may run without settling before its permit expires, in milliseconds. An expired
   * probe counts as a failed probe: the circuit re-opens, so a hung probe cannot strand it.
   * @default 60_000
   */
  probeExpiry?: number;

  /**
   * Per-call timeout in milliseconds (at most 2_147_483_647). A call that runs longer is counted once,
   * as a timeout (a failure for the trip policy); its `AbortSignal` is aborted and the caller receives
   * a `CallTimeoutError`. Unset: no timeout and no timer.
   */
  timeout?: number;
  /**
   * Decides whether an error counts as a failure. Returning `false` counts the call as a success:
   * the dependency answered, the answer was an error for the caller (a 404, a validation error).
   * @default every error is a failure
   */
  isFailure?: (error: unknown) => boolean;
  /**
   * Errors that count as neither success nor failure (error classes, or a predicate). They still
   * reach the caller. Checked before `isFailure`.
   */
  ignore?: ErrorFilter;
  /**
   * Answer instead of an error, for refused calls and (unless `fallbackOnFailure` is `false`) failed
   * and timed-out ones: a value, or a {@link FallbackFunction}. A call's own `fallback` takes
   * precedence. An error counted as ignored, or as a success by `isFailure`, is never replaced.
   */
  fallback?: unknown;
  /**
   * Whether the fallback also answers calls that failed or timed out. `false` limits it to refused
   * calls (open circuit, full bulkhead), so failures reach the caller. @default true (as in opossum,
   * cockatiel, Polly and resilience4j)
   */
  fallbackOnFailure?: boolean;

  /** Bulkhead: most calls running at once. Integer >= 1. Unset: no limit. */
  maxConcurrent?: number;
  /** Bulkhead: calls that may wait for a slot when `maxConcurrent` are running. Integer >= 0. @default 0 */
  maxQueue?: number;

  /** Source of time. @default a monotonic clock anchored to the Unix epoch */
  clock?: Clock;
  /** Source of randomness for backoff jitter, returning [0, 1). @default Math.random */
  random?: () => number;
  /** Start from this state (from `breaker.toJSON()`), for example after a restart. */
  initialState?: CircuitSnapshot;
  /** Where the circuit state lives. @default the breaker's own memory */
  store?: CircuitStore;
  /**
   * Receives errors thrown by listeners, `isFailure`, `ignore` or a store. They never affect the
   * breaker's state or the caller's result.
   * @default reports them with `console.error`
   */
  onCallbackError?: (error: unknown, source: CallbackSource, breaker: string) => void;
  /** Capture a stack trace in every `CircuitOpenError` (costs microseconds per rejection). @default false */
  rejectionStackTraces?: boolean;
}

/** Per-call options for `Breaker.execute` and friends. */
export interface CallOptions<T = unknown> {
  /** Passed to the fallback function. */
  args?: readonly unknown[];
  /** This call's fallback: a value or a function; overrides the breaker's. */
  fallback?: T | FallbackFunction<T>;
  /**
   * The caller's own abort signal: forwarded to the function, and a call that fails after it aborted
   * counts as ignored (the caller cancelled, the dependency did not fail).
   */
  signal?: AbortSignal;
}
