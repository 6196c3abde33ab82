import {
  type CircuitBinding,
  CircuitState,
  type CircuitTransition,
  createLocalCircuit,
  createTripPolicy,
  type LocalCircuit,
  PROBE_TICKET_BASE,
  type TransitionReason,
  type TripPolicy,
  type TripReason,
} from '../core/internal.js';
import type { CircuitConfigMismatchError } from './config-mismatch.error.js';
import { type FleetState, transitionReason } from './fleet-state.js';
import type { FleetHint, FleetReply } from './script-runner.interface.js';

/** @internal What the arbiter needs from its circuit. */
export interface StateArbiterHost {
  /** Whether the breaker is still bound (not disposed). */
  bound(): boolean;
  /**
   * Decisions became the fleet's (`shared`), or this instance's own: the circuit's queued
   * outcomes are dropped (for `reason`), and its probe outcomes and acknowledgements follow.
   */
  sharingChanged(shared: boolean, reason: 'unavailable' | 'mismatch'): void;
}

/**
 * @internal Decides which circuit decides: the local copy of the fleet's, or this instance's own
 * (in memory), and says what the breaker sees.
 *
 * The own circuit decides when Redis is unreachable or the configurations differ (degraded: it is
 * fed every outcome then, starting from what the fleet last said), and when this instance alone is
 * failing: its own trip policy, fed while the fleet decides, says trip while Redis, having counted
 * those failures, still says the fleet is closed (a quorum of instances is needed to open the
 * fleet). It then opens, probes and closes on its own, leaving the fleet closed. Otherwise the
 * fleet decides.
 *
 * Generations seen by the breaker are the arbiter's own (`epoch`): they change whenever either
 * circuit changes, so a late outcome never reaches either.
 */
export class StateArbiter {
  /** This instance's own circuit. */
  readonly local: LocalCircuit;
  /** This instance's own view of its outcomes while the fleet decides (bad-instance protection). */
  private readonly ownPolicy: TripPolicy;
  /** What the own policy said at the last outcome, to act on once Redis has answered. */
  private ownVerdict: TripReason | undefined;
  /** Whether decisions are the fleet's: the store reaches Redis, and the configurations match. */
  private isShared: boolean;
  /** Whether the store reaches Redis. */
  private storeShared: boolean;
  /** Set while the configuration in Redis differs from this instance's. */
  private mismatchError: CircuitConfigMismatchError | undefined;
  private generation: number;
  /**
   * Whether the own circuit decided admissions at the last {@link bump}: not shared, or its state
   * is not CLOSED. Outcomes of calls it admitted then go to it (see `settleOwn`).
   */
  private ownDecided: boolean;
  private localGeneration: number;
  private effectiveState: CircuitState;
  private changedAt: number;
  /**
   * Whether the own circuit's state is the fleet's, copied when Redis was lost, and no outcome of
   * this instance has moved it since: it is not this instance's verdict, so it is dropped when
   * the fleet decides again (else each instance would probe on its own circuit after an outage,
   * beside the fleet's `halfOpenMaxCalls`).
   */
  private borrowed = false;

  constructor(
    private readonly binding: CircuitBinding,
    private readonly fleet: FleetState,
    storeShared: boolean,
    mismatch: CircuitConfigMismatchError | undefined,
    private readonly host: StateArbiterHost,
  ) {
    this.mismatchError = mismatch;
    this.local = createLocalCircuit({
      config: binding.config,
      clock: binding.clock,
      random: binding.random,
      initialState: binding.initialState,
      onTransition: (t) => {
        // Time alone (an open period over) and the copy itself are not this instance's verdict.
        if (t.reason !== 'remote' && t.reason !== 'open-period-elapsed') this.borrowed = false;
        this.bump(t.reason, t.openDuration);
      },
    });
    this.ownPolicy = createTripPolicy(binding.config.policy);
    this.generation = this.localGeneration = this.local.currentGeneration;
    this.effectiveState = this.local.currentState;
    this.changedAt = binding.clock.now();
    this.storeShared = storeShared;
    this.isShared = this.storeShared && mismatch === undefined;
    this.ownDecided = !this.isShared || this.local.currentState !== CircuitState.Closed;
  }

  /** Whether decisions are the fleet's: the store reaches Redis, and the configurations match. */
  get shared(): boolean {
    return this.isShared;
  }

  /** Set while the configuration in Redis differs from this instance's. */
  get mismatch(): CircuitConfigMismatchError | undefined {
    return this.mismatchError;
  }

  /** The breaker's generation: it changes whenever either circuit changes. */
  get epoch(): number {
    return this.generation;
  }

  /** The state the breaker sees. */
  get effective(): CircuitState {
    return this.effectiveState;
  }

  /** When the state the breaker sees last changed (clock reading). */
  get since(): number {
    return this.changedAt;
  }

  /** Whether the fleet's copy decides the state (shared, and this instance's own circuit is CLOSED). */
  fleetDecides(): boolean {
    return this.isShared && this.local.currentState === CircuitState.Closed;
  }

  /**
   * Admits a call by the own circuit: a rejection, the own circuit's probe ticket (the probe settles
   * its own slot there, whatever happens to the fleet meanwhile), or the epoch.
   */
  localAcquire(): number {
    const ticket = this.local.tryAcquire();
    return ticket < 0 || ticket >= PROBE_TICKET_BASE ? ticket : this.generation;
  }

  /**
   * Settles an outcome if it is not the fleet's: a probe of the own circuit, a call of an older
   * epoch (ignored), or a call the own circuit decided. Returns whether it was not the fleet's.
   */
  settleOwn(ticket: number, kind: 'S' | 'F' | 'I', duration: number): boolean {
    if (ticket >= PROBE_TICKET_BASE) {
      // A probe of the own circuit, which knows whether it still counts.
      feed(this.local, ticket, kind, duration);
      return true;
    }
    if (ticket !== this.generation) return true;
    if (!this.isShared || this.local.currentState !== CircuitState.Closed) {
      // This instance's own circuit decides (Redis is away, or this instance alone was failing).
      feed(this.local, this.localGeneration, kind, duration);
      return true;
    }
    return false;
  }

  /** An outcome on its way to a CLOSED fleet: this instance's own view, acted on once Redis has counted it. */
  observe(kind: 'S' | 'F', duration: number): void {
    const now = this.ownPolicy.needsTime ? this.binding.clock.now() : 0;
    const verdict =
      kind === 'S' ? this.ownPolicy.success(now, duration) : this.ownPolicy.failure(now, duration);
    if (verdict !== undefined) this.ownVerdict = verdict;
  }

  /**
   * Redis has counted this instance's outcomes and the fleet is still closed: if this instance's
   * own policy says trip, it alone is failing (or not enough instances are failing to open the
   * fleet), so it opens its own circuit.
   */
  actOnOwnVerdict(): void {
    const verdict = this.ownVerdict;
    if (
      verdict === undefined ||
      !this.isShared ||
      this.fleet.current?.state !== CircuitState.Closed
    )
      return;
    this.ownVerdict = undefined;
    this.ownPolicy.reset();
    this.local.trip(verdict);
  }

  /** The fleet's copy took a newer state (`reply`). */
  fleetMoved(reply: FleetReply): void {
    // The fleet moved on: what this instance saw is accounted for in the fleet's decision.
    this.ownPolicy.reset();
    this.ownVerdict = undefined;
    const reason = transitionReason(reply);
    // A manual transition is the whole fleet's: it applies to this instance's own circuit too.
    if (reason === 'isolate' || reason === 'disable' || reason === 'reset') {
      const manual = reply.state as 'CLOSED' | 'FORCED_OPEN' | 'DISABLED';
      if (manual !== this.local.currentState || manual === CircuitState.Closed) {
        this.local.transition(manual, reason);
      }
    }
    this.bump(reason, reply.state === CircuitState.Open ? reply.remaining : undefined);
  }

  /** The store gained or lost Redis. */
  setStoreShared(shared: boolean, error?: unknown): void {
    this.storeShared = shared;
    this.applyShared(error);
  }

  /**
   * The configuration in Redis differs from this instance's (`error`), or matches again
   * (`undefined`). `hint`: the fleet's state, for a circuit that has not shared it yet.
   */
  setMismatch(error: CircuitConfigMismatchError | undefined, hint?: FleetHint): void {
    const was = this.mismatchError;
    this.mismatchError = error;
    if (
      error !== undefined &&
      was === undefined &&
      this.fleet.current === undefined &&
      hint !== undefined
    ) {
      // Deciding alone from the start: begin where the fleet is (an outage it knows stays known).
      if (this.host.bound() && this.local.currentState === CircuitState.Closed) {
        this.local.adopt(hint.state, hint.remaining, hint.failedProbes);
      }
    }
    if (error !== undefined && was === undefined && !this.isShared && this.host.bound()) {
      // Already deciding alone (the store has not reached Redis yet, say): the status is the same,
      // the reason is new, and must be seen.
      this.binding.onStoreStatus?.('degraded', error);
      return;
    }
    this.applyShared(error);
  }

  /** Decides on the fleet's circuit or on the own one, as the store and the configuration allow. */
  private applyShared(error: unknown): void {
    const shared = this.storeShared && this.mismatchError === undefined;
    if (this.isShared === shared || !this.host.bound()) return;
    this.isShared = shared;
    this.host.sharingChanged(shared, this.mismatchError !== undefined ? 'mismatch' : 'unavailable');
    const f = this.fleet.current;
    if (!shared && f !== undefined && this.local.currentState === CircuitState.Closed) {
      // Decide locally from what the fleet last said: an outage it knew about stays known.
      this.local.adopt(f.state, f.openUntil - this.binding.clock.now(), f.failedProbes);
      this.borrowed = isOpenOrProbing(this.local.currentState);
    } else if (shared && this.borrowed) {
      // Sharing again: the fleet's own state decides, not the copy taken when Redis was lost.
      this.borrowed = false;
      if (isOpenOrProbing(this.local.currentState)) this.local.adopt(CircuitState.Closed, 0, 0);
    }
    this.bump('remote');
    this.binding.onStoreStatus?.(shared ? 'shared' : 'degraded', error ?? this.mismatchError);
  }

  /**
   * Either circuit changed, or the store gained or lost Redis: a new generation, and an event if
   * the state the breaker sees changed. Except when the own circuit decided before and still does,
   * and has not changed itself: then nothing the breaker sees changed, and the calls it admitted
   * are still its calls. Their outcomes must reach it: a probe of the own circuit whose outcome was
   * dropped would hold its slot until probeExpiry, refusing every call on this instance.
   */
  bump(reason: TransitionReason, openDuration?: number): void {
    const from = this.effectiveState;
    const ownDecides = !this.isShared || this.local.currentState !== CircuitState.Closed;
    if (ownDecides && this.ownDecided && this.local.currentGeneration === this.localGeneration) {
      return;
    }
    this.ownDecided = ownDecides;
    this.generation++;
    this.localGeneration = this.local.currentGeneration;
    const local = this.local.currentState;
    const f = this.fleet.current;
    const to = this.isShared && f !== undefined && local === CircuitState.Closed ? f.state : local;
    this.effectiveState = to;
    if (to === from) return;
    const at = this.binding.clock.now();
    this.changedAt = at;
    const transition: CircuitTransition =
      to === CircuitState.Open && openDuration !== undefined
        ? { from, to, reason, generation: this.generation, at, openDuration }
        : { from, to, reason, generation: this.generation, at };
    this.binding.onTransition(transition);
  }
}

function isOpenOrProbing(state: CircuitState): boolean {
  return state === CircuitState.Open || state === CircuitState.HalfOpen;
}

/** Settles an outcome on the own circuit, under `generation` (or a probe ticket). */
function feed(
  local: LocalCircuit,
  generation: number,
  kind: 'S' | 'F' | 'I',
  duration: number,
): void {
  if (kind === 'S') local.success(generation, duration);
  else if (kind === 'F') local.failure(generation, duration);
  else local.release(generation);
}
