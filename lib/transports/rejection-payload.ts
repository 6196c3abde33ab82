import { isBulkheadRejectedError, isCircuitOpenError } from '../core/internal.js';
import { retryAfterSeconds } from '../utils/http.util.js';
import type { CircuitBreakerRejection } from './rejection.js';

/**
 * Why a call was refused, as a stable code a client can switch on (the same in every transport):
 *
 * | code                | refusal                                                              |
 * | ------------------- | -------------------------------------------------------------------- |
 * | `CIRCUIT_OPEN`      | the circuit is `OPEN`, or `HALF_OPEN` with every probe taken         |
 * | `CIRCUIT_ISOLATED`  | the circuit is held open by hand (`isolate()`, `FORCED_OPEN`)        |
 * | `BULKHEAD_FULL`     | the bulkhead is full: `maxConcurrent` running and `maxQueue` waiting |
 * | `BREAKER_SHUT_DOWN` | the breaker was disposed: the application is shutting down           |
 * @publicApi
 */
export type CircuitBreakerRejectionCode =
  'CIRCUIT_OPEN' | 'CIRCUIT_ISOLATED' | 'BULKHEAD_FULL' | 'BREAKER_SHUT_DOWN';

/**
 * What a client outside HTTP receives for a refused call: the `RpcException`'s error (microservices),
 * the `WsException`'s error (WebSockets, the `exception` event's data). It names no breaker and
 * carries no other internal detail.
 * @publicApi
 */
export interface CircuitBreakerRejectionPayload {
  /** Always `'error'`, as in Nest's own RPC and WebSocket error payloads. */
  readonly status: 'error';
  /** Why the call was refused. */
  readonly code: CircuitBreakerRejectionCode;
  /** A short message for people; switch on `code`, not on this. */
  readonly message: string;
  /**
   * When to try again, in whole seconds (at least 1), as in HTTP's `Retry-After`; absent when
   * there is no sensible value (a circuit held open by hand, a full bulkhead, a shutdown).
   */
  readonly retryAfter?: number;
}

const MESSAGES: Readonly<Record<CircuitBreakerRejectionCode, string>> = {
  CIRCUIT_OPEN: 'Service unavailable: a dependency is failing, retry later',
  CIRCUIT_ISOLATED: 'Service unavailable: a dependency is switched off',
  BULKHEAD_FULL: 'Service busy: too many calls in progress, retry later',
  BREAKER_SHUT_DOWN: 'Service unavailable: shutting down',
};

/** The stable code of a refusal (see {@link CircuitBreakerRejectionCode}). */
export function rejectionCode(error: CircuitBreakerRejection): CircuitBreakerRejectionCode {
  if (isCircuitOpenError(error)) {
    return error.state === 'FORCED_OPEN' ? 'CIRCUIT_ISOLATED' : 'CIRCUIT_OPEN';
  }
  return isBulkheadRejectedError(error) ? 'BULKHEAD_FULL' : 'BREAKER_SHUT_DOWN';
}

/** The client-facing description of a refusal (see {@link CircuitBreakerRejectionPayload}). */
export function rejectionPayload(error: CircuitBreakerRejection): CircuitBreakerRejectionPayload {
  const code = rejectionCode(error);
  const retryAfter = retryAfterSeconds(error);
  return retryAfter === undefined
    ? { status: 'error', code, message: MESSAGES[code] }
    : { status: 'error', code, message: MESSAGES[code], retryAfter };
}
