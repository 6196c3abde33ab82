/**
 * The framework-free circuit breaker engine: `nestjs-circuit-breaker/core`.
 * Nothing here imports NestJS; it works in any Node.js program.
 */
export { Breaker, CallPermit, type Outcome, type Protected } from './breaker.js';
export {
  CircuitState,
  isCircuitState,
  type RejectingState,
  type TransitionReason,
  type TripReason,
} from './circuit-state.js';
export { type Clock, ManualClock, systemClock, type TimerHandle } from './clock.js';
export {
  BreakerDisposedError,
  BreakerOptionsError,
  BulkheadRejectedError,
  CallTimeoutError,
  CircuitOpenError,
  isBreakerDisposedError,
  isBreakerOptionsError,
  isBulkheadRejectedError,
  isCallTimeoutError,
  isCircuitOpenError,
  isRejection,
  type RejectionReason,
} from './errors.js';
export type {
  BreakerEventMap,
  BreakerEventName,
  Disposable,
  Event,
  FailureEvent,
  IgnoredEvent,
  RejectionEvent,
  StateChangeEvent,
  StoreStatusEvent,
  SuccessEvent,
  TimeoutEvent,
} from './events.js';
export type {
  BackoffFunction,
  BackoffOptions,
  BreakerOptions,
  CallbackSource,
  CallOptions,
  ErrorFilter,
  FallbackFunction,
  TripPolicyName,
} from './options.js';
export type { PolicyView } from './policies/trip-policy.js';
export type { CircuitSnapshot } from './snapshot.js';
export type { BreakerStats, RejectionCounts } from './stats.js';
export {
  ACQUIRE_ASYNC,
  PROBE_TICKET_BASE,
  type CircuitBinding,
  type CircuitHandle,
  type CircuitStore,
  type CircuitTransition,
  type CircuitView,
  REJECTED_FORCED_OPEN,
  REJECTED_HALF_OPEN,
  REJECTED_OPEN,
  type StoreStatus,
} from './store/circuit-store.js';
export { InMemoryStore } from './store/in-memory.store.js';
export { Circuit } from './circuit.js';
export { mergeBreakerOptions } from './merge-options.js';
export type { ResolvedBackoff } from './backoff-options.js';
export type { CircuitConfig, PolicyConfig } from './circuit-config.js';
export { closestName, describeValue } from './describe.js';
export { DEFAULTS, type ResolvedBreakerOptions } from './resolved-options.js';
export {
  BREAKER_OPTION_NAMES,
  resolveBreakerOptions,
  validateOptionValues,
} from './validate-options.js';
