import type { CircuitState } from './circuit-state.js';
import type { RejectionReason } from './errors.js';
import type { CircuitView, StoreStatus } from './store/circuit-store.js';

/** How a settled call was counted. */
export type Outcome = 'success' | 'failure' | 'ignored';

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

/**
 * A breaker's lifetime counters, changed only through the named operations below (one per thing
 * that can happen to a call), so that `calls` is the sum of the outcome counters by construction.
 * Counters change before anything is emitted, so a listener reading `stats()` sees them add up.
 *
 * Package-internal: the base class of a breaker's `BreakerContext`, so that the counters are
 * fields of the one object that holds a breaker's state rather than an object of their own.
 */
export class Counters {
  // Each counter is declared beside the operation that changes it (in-flight and open counts are
  // not outcomes: they are not part of `calls`).
  private nInFlight = 0;

  /** @param slowCallDuration - ms from which a call counts as slow; `Infinity` for none. */
  constructor(readonly slowCallDuration: number) {}

  /** An admitted call started running. */
  callStarted(): void {
    this.nInFlight++;
  }

  /** A running call ended; its outcome is counted next. */
  callEnded(): void {
    this.nInFlight--;
  }

  private nSuccesses = 0;
  private nFailures = 0;
  private nIgnored = 0;
  private nSlow = 0;

  /**
   * A call was settled as `outcome` after `duration` ms (`NaN` when not timed). An ignored call (an
   * ignored error, or a caller who left before it ran) is never slow.
   */
  countSettled(outcome: Outcome, duration: number): void {
    if (outcome === 'ignored') {
      this.nIgnored++;
      return;
    }
    if (outcome === 'success') this.nSuccesses++;
    else this.nFailures++;
    if (duration >= this.slowCallDuration) this.nSlow++;
  }

  private nTimeouts = 0;

  /** A call ran past the breaker's `timeout` (ms). */
  countTimeout(timeout: number): void {
    this.nTimeouts++;
    if (timeout >= this.slowCallDuration) this.nSlow++;
  }

  private nRejectedOpen = 0;
  private nRejectedHalfOpen = 0;
  private nRejectedForcedOpen = 0;
  private nRejectedBulkhead = 0;

  /** A call was refused without running. */
  countRejection(reason: RejectionReason): void {
    if (reason === 'bulkhead') this.nRejectedBulkhead++;
    else if (reason === 'open') this.nRejectedOpen++;
    else if (reason === 'half-open') this.nRejectedHalfOpen++;
    else this.nRejectedForcedOpen++;
  }

  private nFallbacks = 0;

  /** A fallback answered a call instead of its error. */
  countFallback(): void {
    this.nFallbacks++;
  }

  private nOpens = 0;

  /** The circuit opened. */
  countOpen(): void {
    this.nOpens++;
  }

  /** The statistics of breaker `name`, its circuit's `view`, `queued` calls and its `store` status. */
  snapshot(name: string, view: CircuitView, queued: number, store: StoreStatus): BreakerStats {
    const window = view.window;
    const open = this.nRejectedOpen;
    const halfOpen = this.nRejectedHalfOpen;
    const forcedOpen = this.nRejectedForcedOpen;
    const bulkhead = this.nRejectedBulkhead;
    const rejections = open + halfOpen + forcedOpen + bulkhead;
    return {
      name,
      state: view.state,
      generation: view.generation,
      // Every call ends as exactly one of these, so `calls` is their sum (no counter of its own:
      // one increment less per call).
      calls: this.nSuccesses + this.nFailures + this.nTimeouts + this.nIgnored + rejections,
      successes: this.nSuccesses,
      failures: this.nFailures,
      timeouts: this.nTimeouts,
      ignored: this.nIgnored,
      rejections,
      rejectionsByReason: { open, halfOpen, forcedOpen, bulkhead },
      slowCalls: this.nSlow,
      fallbacks: this.nFallbacks,
      inFlight: this.nInFlight,
      queued,
      windowCalls: window.calls,
      failureRate: window.calls === 0 ? 0 : window.failures / window.calls,
      slowCallRate: window.calls === 0 ? 0 : window.slowCalls / window.calls,
      consecutiveFailures: view.consecutiveFailures,
      failedProbes: view.failedProbes,
      opens: this.nOpens,
      stateSince: view.since,
      openedAt: view.openedAt,
      retryAfter: view.retryAfter,
      store,
    };
  }
}
