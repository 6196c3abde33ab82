import type { CircuitState, TransitionReason } from '../circuit-state.js';
import type { Clock } from '../clock.js';
import type { PolicyView } from '../policies/trip-policy.js';
import type { CircuitSnapshot } from '../snapshot.js';
import type { CircuitConfig } from '../circuit-config.js';

/** `tryAcquire` result: rejected, the circuit is open. */
export const REJECTED_OPEN = -1;
/** `tryAcquire` result: rejected, half-open with every probe slot taken. */
export const REJECTED_HALF_OPEN = -2;
/** `tryAcquire` result: rejected, the circuit is held open (`isolate()`). */
export const REJECTED_FORCED_OPEN = -3;
/** `tryAcquire` result: the decision needs the store (a fleet-wide probe lease): call `acquire()`. */
export const ACQUIRE_ASYNC = -4;

/**
 * The smallest probe ticket. A half-open admission returns a ticket of its own rather than the
 * generation, so that each probe settles exactly its own slot and admission time; tickets are at
 * least 2^52 and unique for a circuit's life, so none equals a generation or an older probe's
 * ticket. Breakers treat generations and tickets alike: an opaque number handed back on settlement.
 */
export const PROBE_TICKET_BASE = 2 ** 52;

/** A transition, as a store reports it to every breaker bound to the circuit. */
export interface CircuitTransition {
  readonly from: CircuitState;
  readonly to: CircuitState;
  readonly reason: TransitionReason;
  /** The generation of the new state. */
  readonly generation: number;
  /** Clock reading at the transition, in milliseconds. */
  readonly at: number;
  /** When `to` is `OPEN`: the length of the open period, in milliseconds. */
  readonly openDuration?: number;
}

/** What a circuit knows about itself, for statistics. */
export interface CircuitView {
  readonly state: CircuitState;
  readonly generation: number;
  readonly since: number;
  readonly openedAt: number | undefined;
  /** Milliseconds until probes may go (`OPEN`), `0` (`HALF_OPEN`), otherwise `undefined`. */
  readonly retryAfter: number | undefined;
  readonly failedProbes: number;
  readonly consecutiveFailures: number;
  readonly probesInFlight: number;
  readonly window: PolicyView;
}

/**
 * Where a breaker's decisions come from right now: its own memory (`memory`), a store shared with
 * other breakers (`shared`), or its own memory because the shared store is unreachable (`degraded`).
 */
export type StoreStatus = 'memory' | 'shared' | 'degraded';

/** What a breaker hands to a store when it binds to a circuit. */
export interface CircuitBinding {
  /** The circuit's name: breakers bound under one name in one store share one circuit. */
  readonly name: string;
  readonly config: CircuitConfig;
  readonly clock: Clock;
  readonly random: () => number;
  readonly initialState: CircuitSnapshot | undefined;
  /**
   * Called synchronously for every transition of the circuit, whichever breaker (or instance)
   * caused it. Must not throw.
   */
  onTransition(transition: CircuitTransition): void;
  /** Reports an error inside the store (a lost connection, say); it must not reach callers. */
  onError(error: unknown): void;
  /**
   * Called when a half-open probe ended with no verdict (`release`) and its slot is free again, so
   * that callers waiting for a verdict can try for it. Must not throw.
   */
  onProbeSlotFreed?(): void;
  /** Called when the store's status changes (a shared store losing or regaining its server). */
  onStoreStatus?(status: StoreStatus, error?: unknown): void;
}

/**
 * One breaker's connection to its circuit's state. Every method but `acquire` is synchronous: a
 * store that keeps state elsewhere (Redis) answers from a local copy it keeps up to date, and sends
 * outcomes and transitions on in the background.
 *
 * Generations are the race-freedom contract: `tryAcquire` returns the ticket a call is admitted
 * with (its generation, or a probe's own ticket), and `success`/`failure`/`release` with a ticket
 * of any other state than the current one must change
 * nothing, so that a late outcome never acts on a newer state.
 */
export interface CircuitHandle {
  /** The current state, after any transition that time has made due (open period over, probe expired). */
  state(): CircuitState;
  /**
   * Admits a call: returns its ticket (>= 0: the generation, or for a half-open probe a ticket of
   * its own, see {@link PROBE_TICKET_BASE}), or `REJECTED_OPEN`, `REJECTED_HALF_OPEN`,
   * `REJECTED_FORCED_OPEN`, or `ACQUIRE_ASYNC` when only `acquire()` can decide. A half-open
   * admission takes a probe slot. `ACQUIRE_ASYNC` must be returned without side effects.
   */
  tryAcquire(): number;
  /** The asynchronous form of `tryAcquire`, for stores that return `ACQUIRE_ASYNC`. */
  acquire?(): Promise<number>;
  /** The call admitted with `ticket` succeeded; `duration` in ms, `NaN` if not measured. */
  success(ticket: number, duration: number): void;
  /** The call admitted with `ticket` failed (or timed out). */
  failure(ticket: number, duration: number): void;
  /** The call admitted with `ticket` ended with no verdict (an ignored error): frees its probe slot. */
  release(ticket: number): void;
  /** Moves the circuit by hand (`reset()`, `isolate()`, `disable()`). */
  transition(
    to: 'CLOSED' | 'FORCED_OPEN' | 'DISABLED',
    reason: 'reset' | 'isolate' | 'disable',
  ): void;
  /** Milliseconds until probes may go: the rest of the open period, `0` when half-open, else `undefined`. */
  retryAfter(): number | undefined;
  /** What the circuit knows about itself. */
  view(): CircuitView;
  /** The state as plain data. */
  snapshot(): CircuitSnapshot;
  /** Disconnects this breaker; later outcomes through this handle change nothing. */
  unbind(): void;
  /** Where decisions come from right now. Absent means `memory`. */
  storeStatus?(): StoreStatus;
}

/**
 * Where circuit state lives. The default is the breaker's own memory; `InMemoryStore` shares one
 * circuit between breakers of the same name in one process; a Redis store shares it between
 * processes. Every store passes the same contract suite (`test/core/store-contract.ts`).
 */
export interface CircuitStore {
  /**
   * Connects a breaker to the circuit named `binding.name`, creating it if needed. Throws a
   * `BreakerOptionsError` if the circuit exists with a different configuration.
   */
  bind(binding: CircuitBinding): CircuitHandle;
}
