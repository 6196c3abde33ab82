/**
 * The framework-free circuit breaker engine: `nestjs-circuit-breaker/core`.
 * Nothing here imports NestJS; it works in any Node.js program.
 */
export {
  Breaker,
  CallPermit,
  type FallbackCause,
  type Outcome,
  type Protected,
} from './breaker.js';
export {
  CircuitState,
  isCircuitState,
  type RejectingState,
  type TransitionReason,
  type TripReason,
} from './circuit-state.js';
export { BreakerFamily } from './family.js';
export {
  type BreakerFamilyOptions,
  FAMILY_KEY_SEPARATOR,
  type FamilyEvictionEvent,
  type FamilyEvictionReason,
  type FamilyKeyEvent,
  type FamilyStats,
  type KeyOptions,
  type KeyOverride,
  MAX_FAMILY_KEY_LENGTH,
} from './family-options.js';
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
/** The options a breaker resolved at construction (`breaker.options`). */
export type { ResolvedBreakerOptions } from './resolved-options.js';
// For store authors: what a store needs to decide in this process too (README, "Writing a store").
export type { ResolvedBackoff } from './backoff-options.js';
export type { CircuitConfig, PolicyConfig } from './circuit-config.js';
export type { ConsecutiveFailuresConfig } from './policies/consecutive-failures.policy.js';
export type { CountWindowConfig } from './policies/count-window.policy.js';
export type { SlowCallConfig } from './policies/slow-call.policy.js';
export type { TimeWindowConfig } from './policies/time-window.policy.js';
export type { TripPolicy } from './policies/trip-policy.js';
export {
  createLocalCircuit,
  createTripPolicy,
  type LocalCircuit,
  type LocalCircuitBinding,
  nextOpenPeriod,
} from './store/local-circuit.js';
