/**
 * The kit for store authors: what a `CircuitStore` that keeps state elsewhere needs to decide in
 * this process too, as `RedisStore` does while Redis is away. It is the engine's own state machine
 * and trip policies, behind interfaces: a store built on it degrades to exactly the decisions of an
 * unshared breaker.
 */
import { openPeriod } from '../backoff.js';
import type { CircuitConfig, PolicyConfig } from '../circuit-config.js';
import type { CircuitState, TripReason } from '../circuit-state.js';
import { Circuit } from '../circuit.js';
import { createPolicy } from '../policies/index.js';
import type { TripPolicy } from '../policies/trip-policy.js';
import type { CircuitBinding, CircuitHandle } from './circuit-store.js';

/**
 * A circuit held in this process: a {@link CircuitHandle} (what a breaker bound to an in-memory
 * circuit talks to), plus what a store needs to steer it from outside.
 */
export interface LocalCircuit extends CircuitHandle {
  /** The current state, without applying any time-based transition. */
  readonly currentState: CircuitState;
  /** The current generation, without applying any time-based transition. */
  readonly currentGeneration: number;
  /** Opens the circuit now, as its trip policy would have, for `reason` (a CLOSED circuit only). */
  trip(reason: TripReason): void;
  /**
   * Takes on a state decided elsewhere (the fleet's last known state, when a shared store loses
   * its server): `OPEN` lasts `remaining` ms; `HALF_OPEN` continues as `OPEN` with its period over
   * (the next call probes); `CLOSED`, `FORCED_OPEN` and `DISABLED` as they are. `failedProbes` is
   * the backoff's attempt count. A change is a transition (reason `remote`), reported through the
   * binding's `onTransition`, with a new generation; the same state changes nothing.
   */
  adopt(state: CircuitState, remaining: number, failedProbes: number): void;
}

/** What {@link createLocalCircuit} needs: the parts of a {@link CircuitBinding} a circuit uses. */
export type LocalCircuitBinding = Pick<
  CircuitBinding,
  'config' | 'clock' | 'random' | 'initialState' | 'onTransition' | 'onProbeSlotFreed'
>;

/**
 * A new circuit in this process, with the semantics of an unshared breaker's (`InMemoryStore`
 * hands out the same): transitions, generations, probe tickets, `probeExpiry`, backoff.
 */
export function createLocalCircuit(binding: LocalCircuitBinding): LocalCircuit {
  return new Circuit(binding);
}

/**
 * The trip policy `policy` configures (`binding.config.policy`), fresh: for a store that counts
 * some outcomes on its own, beside a shared window (an instance's own failures, say).
 */
export function createTripPolicy(policy: PolicyConfig): TripPolicy {
  return createPolicy(policy);
}

/**
 * The length of the next open period in ms, under `config`'s `openDuration` and backoff, after
 * `attempt` failed probes since the circuit last closed (0 for the first opening); `random` gives
 * the jitter, in [0, 1). Always a finite number >= 1.
 */
export function nextOpenPeriod(
  config: CircuitConfig,
  attempt: number,
  random: () => number,
): number {
  return openPeriod(config.openDuration, config.backoff, attempt, random);
}
