import type { CircuitState } from './circuit-state.js';

/**
 * A circuit's state as plain, JSON-safe data: what `breaker.toJSON()` returns and what the
 * `initialState` option accepts. Times are clock readings in milliseconds (with the default clock,
 * milliseconds since the Unix epoch, so a snapshot survives a restart).
 */
export interface CircuitSnapshot {
  /** The state. A snapshot taken while `HALF_OPEN` restores as `OPEN` with its period over. */
  readonly state: CircuitState;
  /** Grows by one on every transition. */
  readonly generation: number;
  /** When the state was entered. */
  readonly since: number;
  /** When the circuit opened (`OPEN` only). */
  readonly openedAt?: number;
  /** When the open period ends (`OPEN` only). */
  readonly openUntil?: number;
  /** Failed probes since the circuit last closed: drives the backoff. */
  readonly failedProbes: number;
}
