import type { CircuitState, TransitionReason, TripPolicyName } from '../core/index.js';

/** A transition as the ops endpoints report it. @publicApi */
export interface OpsTransition {
  /** The state it left. */
  readonly from: CircuitState;
  /** The state it entered. */
  readonly to: CircuitState;
  /** Why (a trip policy, a probe, the open period, a manual change, or `remote`). */
  readonly reason: TransitionReason;
  /** When this process saw it, ISO-8601. */
  readonly time: string;
}

/**
 * One breaker, as `GET /{path}/circuitbreakers/:name` answers (resilience4j's actuator names, then
 * ours). Rates and thresholds are percentages; window counts cover the trip policy's window (since
 * the circuit closed, for `consecutive`); `notPermittedCalls` covers the breaker's life.
 * @publicApi
 */
export interface CircuitBreakerDetails {
  /** The state now. */
  readonly state: CircuitState;
  /** In percent; -1 while the window holds fewer than `minimumCalls` calls. */
  readonly failureRate: number;
  /** In percent; -1 while the window holds fewer than `minimumCalls` calls. */
  readonly slowCallRate: number;
  /** In percent; -1 for the `consecutive` policy, which has no rate threshold. */
  readonly failureRateThreshold: number;
  /** In percent; -1 unless the policy is `slow-call`. */
  readonly slowCallRateThreshold: number;
  /** Calls in the window. */
  readonly bufferedCalls: number;
  /** Failed calls (timeouts included) in the window. */
  readonly failedCalls: number;
  /** Slow calls in the window (the `slow-call` policy; otherwise 0). */
  readonly slowCalls: number;
  /**
   * Slow calls in the window that failed: 0 when there are no slow calls or no failed ones, -1
   * otherwise (the engine's window does not count the two together).
   */
  readonly slowFailedCalls: number;
  /** Calls the circuit refused (OPEN, FORCED_OPEN, HALF_OPEN full), over the breaker's life. */
  readonly notPermittedCalls: number;
  /** Calls in the window that did not fail. */
  readonly successfulCalls: number;
  /** The trip policy. */
  readonly policy: TripPolicyName;
  /** `consecutive` only: failures in a row now. */
  readonly consecutiveFailures?: number;
  /** `consecutive` only: the failures in a row that open the circuit. */
  readonly failureThreshold?: number;
  /** Milliseconds until probes may go, while `OPEN`. */
  readonly retryAfterMs?: number;
  /** The last transition this process saw since the ops module started, or `null`. */
  readonly lastTransition: OpsTransition | null;
  /** Where decisions come from: memory (`local`), a shared store, or memory while it is away. */
  readonly store: 'local' | 'shared' | 'degraded';
}

/** The `type` of an ops event (resilience4j's event types). @publicApi */
export type CircuitBreakerOpsEventType =
  | 'SUCCESS'
  | 'ERROR'
  | 'IGNORED_ERROR'
  | 'NOT_PERMITTED'
  | 'STATE_TRANSITION'
  | 'RESET'
  | 'FORCED_OPEN_STATE'
  | 'DISABLED_STATE'
  | 'TIMEOUT';

/**
 * One event, as `GET /{path}/circuitbreakerevents` and the event stream report it. A manual
 * transition (`reset()`, `isolate()`, `disable()`, here or on another instance sharing the store) is
 * `RESET`, `FORCED_OPEN_STATE` or `DISABLED_STATE`; any other is `STATE_TRANSITION`.
 * @publicApi
 */
export interface CircuitBreakerOpsEvent {
  /** The breaker's name (`<family>:<key>` for a family's breaker). */
  readonly circuitBreakerName: string;
  /** For a family's breaker: the family's name (ours). */
  readonly family?: string;
  /** What happened. */
  readonly type: CircuitBreakerOpsEventType;
  /** When this process saw it, ISO-8601. */
  readonly creationTime: string;
  /** `Name: message` of what the call threw (abridged to 500 characters). */
  readonly errorMessage?: string;
  /** How long the call took (for `TIMEOUT`: the timeout), in milliseconds. */
  readonly durationInMs?: number;
  /** `FROM_TO_TO`, as `CLOSED_TO_OPEN`. */
  readonly stateTransition?: string;
  /** Why the circuit moved (ours). */
  readonly reason?: TransitionReason;
  /** Who asked for a manual transition through `POST /{path}/circuitbreakers/:name`. */
  readonly requestedBy?: string;
}

/** One breaker in an event stream `summary`, for the last interval. @publicApi */
export interface CircuitBreakerOpsSummary {
  /** The state now. */
  readonly state: CircuitState;
  /** In percent; -1 while the window holds fewer than `minimumCalls` calls. */
  readonly failureRate: number;
  /** Calls settled in the interval (refusals not included). */
  readonly calls: number;
  /** Calls that failed or timed out in the interval. */
  readonly failedCalls: number;
  /** Calls the circuit refused in the interval. */
  readonly notPermittedCalls: number;
  /** `calls` per second over the interval. */
  readonly callsPerSecond: number;
  /** The last transition seen since the ops module started, or `null`. */
  readonly lastTransition: OpsTransition | null;
}

/**
 * One family of breakers, as `GET /{path}/circuitbreakers` (under `families`) and
 * `GET /{path}/circuitbreakers/:family` answer: counts, not every key (a family may hold
 * thousands). Read one key with `GET /{path}/circuitbreakers/:family/:key`.
 * @publicApi
 */
export interface CircuitBreakerFamilySummary {
  /** Keys held now. */
  readonly keys: number;
  /** Most keys kept at once (`maxKeys`). */
  readonly maxKeys: number;
  /** Milliseconds an idle key is kept; `null` for ever (`Infinity`). */
  readonly idleTimeout: number | null;
  /** Keys held now, by state. */
  readonly states: Readonly<Record<CircuitState, number>>;
  /** Keys not `CLOSED` (`OPEN`, `HALF_OPEN`, `FORCED_OPEN`, `DISABLED`), counted in full. */
  readonly notClosedKeys: number;
  /**
   * The first keys not `CLOSED`, least recently used first, at most 20, each with its state;
   * `notClosedKeys` has the count.
   */
  readonly notClosed: ReadonlyArray<{ readonly key: string; readonly state: CircuitState }>;
  /** Keys created over the family's life. */
  readonly created: number;
  /** Keys released over the family's life, by reason. */
  readonly evicted: Readonly<Record<'capacity' | 'idle' | 'deleted', number>>;
  /** Keys created while the family was full of busy keys (over its cap). */
  readonly overCap: number;
}

/** One family in an event stream `summary`. @publicApi */
export interface CircuitBreakerOpsFamilySummary {
  /** Keys held now. */
  readonly keys: number;
  /** Keys held now, by state. */
  readonly states: Readonly<Record<CircuitState, number>>;
}
