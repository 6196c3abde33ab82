/**
 * The states a circuit can be in.
 *
 * - `CLOSED`: calls pass and their outcomes are counted by the trip policy.
 * - `OPEN`: calls are rejected at once with a `CircuitOpenError` until the open period is over.
 * - `HALF_OPEN`: a limited number of probe calls pass; their outcomes decide between `CLOSED` and `OPEN`.
 * - `FORCED_OPEN`: held open by hand (`isolate()`); every call is rejected until `reset()`.
 * - `DISABLED`: switched off by hand (`disable()`); every call passes, outcomes are still counted.
 */
export const CircuitState = {
  Closed: 'CLOSED',
  Open: 'OPEN',
  HalfOpen: 'HALF_OPEN',
  ForcedOpen: 'FORCED_OPEN',
  Disabled: 'DISABLED',
} as const;

/** One of the values of {@link CircuitState}. */
export type CircuitState = (typeof CircuitState)[keyof typeof CircuitState];

/** The states in which a call can be rejected with a `CircuitOpenError`. */
export type RejectingState =
  typeof CircuitState.Open | typeof CircuitState.HalfOpen | typeof CircuitState.ForcedOpen;

const ALL_STATES: ReadonlySet<string> = new Set(Object.values(CircuitState));

/** Whether `value` is one of the five circuit states. */
export function isCircuitState(value: unknown): value is CircuitState {
  return typeof value === 'string' && ALL_STATES.has(value);
}

/**
 * Why a circuit changed state.
 *
 * - `consecutive-failures`, `failure-rate`, `slow-call-rate`: the trip policy opened it.
 * - `probe-failed`: a half-open probe failed; `probe-expired`: a probe did not settle within
 *   `probeExpiry`.
 * - `open-period-elapsed`: the open period is over, probes may go.
 * - `probes-succeeded`: every half-open probe succeeded.
 * - `isolate`, `disable`, `reset`: a manual transition.
 * - `remote`: another instance sharing the store made the transition.
 * - `forced`: a test moved the circuit to `OPEN` or `HALF_OPEN` by hand (the testing module's
 *   `force()`); forcing `CLOSED`, `FORCED_OPEN` or `DISABLED` is a `reset`, `isolate`, `disable`.
 */
export type TransitionReason =
  | 'consecutive-failures'
  | 'failure-rate'
  | 'slow-call-rate'
  | 'probe-failed'
  | 'probe-expired'
  | 'open-period-elapsed'
  | 'probes-succeeded'
  | 'isolate'
  | 'disable'
  | 'reset'
  | 'remote'
  | 'forced';

/** The reasons a trip policy can give for opening a closed circuit. */
export type TripReason = 'consecutive-failures' | 'failure-rate' | 'slow-call-rate';
