import type { CircuitState } from '../core/internal.js';
import type { Waiter } from './in-flight-limit.js';
import type { RedisStoreStatus } from './redis-store-options.interface.js';
import type { ScriptConfig } from './scripts.js';

/** A script's answer, or a pushed transition. */
export interface FleetReply {
  readonly state: CircuitState;
  readonly generation: number;
  /** Milliseconds left in the open period, by Redis's clock. */
  readonly remaining: number;
  readonly failedProbes: number;
  readonly admitted: boolean;
  /** When refused in HALF_OPEN: milliseconds until the earliest probe lease expires. */
  readonly wait: number;
  /** Which incarnation of the circuit (changes if Redis lost its keys). */
  readonly id: string;
  /** Why the last transition happened. */
  readonly reason: string;
  /** The configuration JSON this call replaced in Redis ('' if none). */
  readonly replaced: string;
}

/** The fleet's state as a MISMATCH answer reports it, for a circuit that never shared it. */
export interface FleetHint {
  readonly state: CircuitState;
  readonly remaining: number;
  readonly failedProbes: number;
}

/** The scripts a circuit runs (see `scripts.ts`). */
export type FleetScript = 'sync' | 'record' | 'acquire' | 'probe' | 'transition';

/** @internal Outcome counters, as `RedisStoreStats.outcomes`, kept by the store's circuits. */
export interface OutcomeCounts {
  queued: number;
  recorded: number;
  pending: number;
  unavailable: number;
  mismatch: number;
  overflow: number;
  stale: number;
}

/** @internal What a script runner needs to know of the circuit a script runs for. */
export interface ScriptCaller {
  readonly name: string;
  /** The circuit's keys, in the scripts' KEYS order. */
  readonly keys: readonly string[];
  /** The configuration Redis should hold for this circuit. */
  readonly config: ScriptConfig;
  /** Its JSON, sent only when Redis asks for it. */
  readonly configJson: string;
  /** Its fingerprint, sent with every script call. */
  readonly fingerprint: string;
  /** Whether the configuration in Redis differs from this instance's. */
  readonly mismatched: boolean;
  /** A script call's own arguments (ARGV 4 to 6), fresh for each call. */
  callArgs(): [number, number, string];
}

/**
 * @internal What a circuit shared through Redis needs from its store: the scripts run for it, the
 * slots its batches of outcomes wait for, and the counters they keep. `RedisStore` implements it;
 * `RedisCircuit` depends only on this, never on the store.
 */
export interface ScriptRunner<C extends ScriptCaller = ScriptCaller> {
  /** This instance's id in the quorum. */
  readonly instanceId: string;
  /** The key and channel prefix. */
  readonly prefix: string;
  /** Whether circuits are shared through Redis right now. */
  readonly status: RedisStoreStatus;
  /** Outcome counters, shared by every circuit of the store. */
  readonly outcomes: OutcomeCounts;
  /**
   * Runs a script for a circuit. It waits for a slot (see `maxInFlight`) and for Redis,
   * `commandTimeout` in all; a timeout or a lost connection degrades the store and rejects. A
   * configuration in Redis that differs rejects with a `CircuitConfigMismatchError` (the
   * circuit's breakers decide alone from then on); the store stays shared.
   */
  run(script: FleetScript, circuit: C, args: ReadonlyArray<string | number>): Promise<FleetReply>;
  /** Whether a circuit's batch can go now; if not, it is queued for the next slot. */
  slotForBatch(batch: Waiter): boolean;
  /** A circuit's batch no longer waits for a slot. */
  cancelBatch(batch: Waiter): void;
  /** The circuit was disposed: the store forgets it. */
  unbind(circuit: C): void;
}
