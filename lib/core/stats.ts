import type { CircuitState } from './circuit-state.js';

/** Rejections by reason. */
export interface RejectionCounts {
  /** Rejected while `OPEN`. */
  readonly open: number;
  /** Rejected while `HALF_OPEN` with every probe slot taken. */
  readonly halfOpen: number;
  /** Rejected while `FORCED_OPEN`. */
  readonly forcedOpen: number;
  /** Rejected by the bulkhead (`maxConcurrent` and `maxQueue` full). */
  readonly bulkhead: number;
}

/**
 * A consistent snapshot of a breaker's statistics. Every counter covers the breaker's lifetime
 * (`reset()` does not clear them) and counts each call once, when its outcome is known, so at any
 * moment:
 *
 * `calls === successes + failures + timeouts + ignored + rejections`
 *
 * Calls still running are in `inFlight`, calls waiting for a bulkhead slot in `queued`.
 */
export interface BreakerStats {
  readonly name: string;
  readonly state: CircuitState;
  /** Grows by one on every transition. */
  readonly generation: number;

  /** Calls that have an outcome: the sum of the five counters below. */
  readonly calls: number;
  /** Calls that succeeded (including errors `isFailure` says are not failures). */
  readonly successes: number;
  /** Calls that failed. */
  readonly failures: number;
  /** Calls that ran past `timeout`. */
  readonly timeouts: number;
  /** Calls whose error was ignored (`ignore`, or the caller's abort). */
  readonly ignored: number;
  /** Calls rejected without running. */
  readonly rejections: number;
  readonly rejectionsByReason: RejectionCounts;

  /** Calls slower than `slowCallDuration` (`slow-call` policy; otherwise 0). */
  readonly slowCalls: number;
  /** Calls answered by a fallback. */
  readonly fallbacks: number;
  /** Calls running now. */
  readonly inFlight: number;
  /** Calls waiting for a bulkhead slot now. */
  readonly queued: number;

  /** Calls the trip policy currently considers (its window, or since the circuit closed). */
  readonly windowCalls: number;
  /** Failure rate the trip policy currently sees, in [0, 1] (0 when it has no calls). */
  readonly failureRate: number;
  /** Slow-call rate the trip policy currently sees, in [0, 1]. */
  readonly slowCallRate: number;
  /** Failures in a row since the last success. */
  readonly consecutiveFailures: number;
  /** Failed probes since the circuit last closed (drives backoff). */
  readonly failedProbes: number;

  /** Times the circuit has opened. */
  readonly opens: number;
  /** Clock reading when the current state began, in ms. */
  readonly stateSince: number;
  /** Clock reading when the circuit opened, while `OPEN`. */
  readonly openedAt: number | undefined;
  /** Milliseconds until probes may go (`OPEN`), 0 (`HALF_OPEN`), otherwise `undefined`. */
  readonly retryAfter: number | undefined;
  /**
   * Where decisions come from: the breaker's memory, a shared store, or its memory because the
   * shared store is unreachable (`degraded`).
   */
  readonly store: 'memory' | 'shared' | 'degraded';
}
