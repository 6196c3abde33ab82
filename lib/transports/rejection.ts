import type {
  BreakerDisposedError,
  BulkheadRejectedError,
  CircuitOpenError,
} from '../core/internal.js';

/**
 * An error a breaker refused a call with, without running it: an open circuit
 * (`CircuitOpenError`), a full bulkhead (`BulkheadRejectedError`) or a breaker disposed by
 * shutdown (`BreakerDisposedError`). Recognised with `isRejection()`.
 * @publicApi
 */
export type CircuitBreakerRejection =
  CircuitOpenError | BulkheadRejectedError | BreakerDisposedError;
