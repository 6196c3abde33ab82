import type { CircuitConfig } from './circuit-config.js';
import type { BreakerStats } from './stats.js';

/**
 * What a breaker's trip policy holds, as resilience4j reports it (its actuator and its
 * micrometer metrics): rates in percent, -1 while the window holds fewer than its minimum number of
 * calls, and the window's calls by outcome. One place for the convention, used by the Prometheus
 * metrics and the ops endpoints.
 */
export interface WindowReport {
  /** Failure rate in percent; -1 below the minimum number of calls. */
  readonly failureRate: number;
  /** Slow-call rate in percent; -1 below the minimum number of calls. */
  readonly slowCallRate: number;
  /** Calls in the window (since the circuit closed, for `consecutive`). */
  readonly bufferedCalls: number;
  /** Failed calls (timeouts included) in the window. */
  readonly failedCalls: number;
  /** Calls in the window that did not fail. */
  readonly successfulCalls: number;
  /** Slow calls in the window (the `slow-call` policy; otherwise 0). */
  readonly slowCalls: number;
}

/**
 * The calls a policy needs before its rates mean anything: `minimumCalls` of a window policy,
 * one call for `consecutive`, which has no minimum.
 */
export function minimumCallsOf(circuit: CircuitConfig): number {
  const policy = circuit.policy as { minimumCalls?: number };
  return Math.max(1, policy.minimumCalls ?? 1);
}

/** The window of `stats` (a breaker configured with `circuit`), as resilience4j reports it. */
export function windowReport(stats: BreakerStats, circuit: CircuitConfig): WindowReport {
  const calls = stats.windowCalls;
  const enough = calls >= minimumCallsOf(circuit);
  const failedCalls = Math.round(stats.failureRate * calls);
  return {
    failureRate: enough ? stats.failureRate * 100 : -1,
    slowCallRate: enough ? stats.slowCallRate * 100 : -1,
    bufferedCalls: calls,
    failedCalls,
    successfulCalls: calls - failedCalls,
    slowCalls: Math.round(stats.slowCallRate * calls),
  };
}

/**
 * The thresholds of a policy in percent, as resilience4j reports them: -1 for a rate the policy
 * does not watch (`consecutive` watches none; only `slow-call` watches the slow-call rate).
 */
export function rateThresholds(circuit: CircuitConfig): {
  readonly failureRateThreshold: number;
  readonly slowCallRateThreshold: number;
} {
  const policy = circuit.policy as {
    failureRateThreshold?: number;
    slowCallRateThreshold?: number;
  };
  return {
    failureRateThreshold: percentOr(policy.failureRateThreshold),
    slowCallRateThreshold: percentOr(policy.slowCallRateThreshold),
  };
}

const percentOr = (fraction: number | undefined): number =>
  fraction === undefined ? -1 : fraction * 100;
