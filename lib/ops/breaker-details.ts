import { type Breaker, CircuitState, rateThresholds, windowReport } from '../core/internal.js';
import type { CircuitBreakerDetails, OpsTransition } from './ops-payloads.interface.js';

const STORE = { memory: 'local', shared: 'shared', degraded: 'degraded' } as const;

/** A breaker as `GET /{path}/circuitbreakers/:name` answers, from one `stats()` snapshot. */
export function breakerDetails(
  breaker: Breaker,
  lastTransition: OpsTransition | null,
): CircuitBreakerDetails {
  const stats = breaker.stats();
  const circuit = breaker.options.circuit;
  const window = windowReport(stats, circuit);
  const policy = circuit.policy;
  const { open, halfOpen, forcedOpen } = stats.rejectionsByReason;
  return {
    state: stats.state,
    failureRate: window.failureRate,
    slowCallRate: window.slowCallRate,
    ...rateThresholds(circuit),
    bufferedCalls: window.bufferedCalls,
    failedCalls: window.failedCalls,
    slowCalls: window.slowCalls,
    slowFailedCalls: window.slowCalls === 0 || window.failedCalls === 0 ? 0 : -1,
    // Bulkhead refusals are not the circuit's (resilience4j counts them in its bulkhead).
    notPermittedCalls: open + halfOpen + forcedOpen,
    successfulCalls: window.successfulCalls,
    policy: policy.kind,
    ...(policy.kind === 'consecutive'
      ? {
          consecutiveFailures: stats.consecutiveFailures,
          failureThreshold: policy.failureThreshold,
        }
      : {}),
    ...(stats.state === CircuitState.Open && stats.retryAfter !== undefined
      ? { retryAfterMs: stats.retryAfter }
      : {}),
    lastTransition,
    store: STORE[stats.store],
  };
}
