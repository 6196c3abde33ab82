import { randomBytes } from 'node:crypto';
import { openPeriod } from '../core/backoff.js';
import { CircuitState, type TransitionReason } from '../core/circuit-state.js';
import { Circuit } from '../core/circuit.js';
import { collapsesSuccesses, createPolicy, slowCallDurationOf } from '../core/policies/index.js';
import type { TripPolicy } from '../core/policies/trip-policy.js';
import type { TripReason } from '../core/circuit-state.js';
import type { CircuitSnapshot } from '../core/snapshot.js';
import {
  ACQUIRE_ASYNC,
  type CircuitBinding,
  type CircuitHandle,
  type CircuitTransition,
  type CircuitView,
  REJECTED_FORCED_OPEN,
  REJECTED_HALF_OPEN,
  PROBE_TICKET_BASE,
  REJECTED_OPEN,
  type StoreStatus,
} from '../core/store/circuit-store.js';
import type { SharedConfig } from './circuit-config.js';
import {
  type CircuitConfigMismatchError,
  isCircuitConfigMismatchError,
} from './config-mismatch.error.js';
import type { Waiter } from './in-flight-limit.js';
import type { OutcomeCounts, RedisStore } from './redis.store.js';
import { OutcomeBatch } from './outcome-batch.js';
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

/** A fleet probe lease held by a call in flight. */
interface HeldProbe {
  /** The fleet circuit's incarnation and generation the lease was taken in. */
  readonly id: string;
  readonly generation: number;
  readonly lease: string;
}

/**
 * The first ticket of a fleet probe: above every ticket the own circuit can give (those start at
 * PROBE_TICKET_BASE and would need 2^51 probes to get here), so the two never meet.
 */
const FLEET_TICKET_BASE = PROBE_TICKET_BASE + 2 ** 51;

/**
 * A fleet probe's outcome not yet sent (Redis was away when the probe ended), or a lease to release
 * that Redis may have granted after its request timed out (generation -1, outcome I).
 */
interface UnsentProbe {
  readonly generation: number;
  readonly lease: string;
  readonly kind: 'S' | 'F' | 'I';
}

/** This instance's copy of the fleet's circuit. */
interface Fleet {
  state: CircuitState;
  generation: number;
  id: string;
  /** Local clock reading when the open period ends. */
  openUntil: number;
  failedProbes: number;
  /** Until then, every probe slot is known to be taken: refuse without asking Redis. */
  fullUntil: number;
}

const REASONS: ReadonlySet<string> = new Set<TransitionReason>([
  'consecutive-failures',
  'failure-rate',
  'slow-call-rate',
  'probe-failed',
  'probe-expired',
  'open-period-elapsed',
  'probes-succeeded',
  'isolate',
  'disable',
  'reset',
  'remote',
]);

/**
 * The most steps of the record script in one call (see `OutcomeBatch.work`): more outcomes in one
 * tick are sent in several calls, so that no script holds Redis for long.
 */
const MAX_BATCH = 500;

/**
 * One breaker's connection to a circuit shared through Redis.
 *
 * It holds three things: a copy of the fleet's circuit (updated by script answers and pushed
 * transitions), the breaker's own in-memory circuit, and, while shared, this instance's own trip
 * policy. The own circuit decides when Redis is unreachable (it is fed every outcome then), and when
 * this instance alone is failing: its own policy says trip while Redis, having counted those
 * failures, still says the fleet is closed (a quorum of instances is needed to open the fleet). It
 * then opens, probes and closes on its own, leaving the fleet closed. Otherwise the fleet decides. Admission reads both synchronously; only a half-open fleet needs Redis (for a
 * probe lease), and, after a failure, the next admission waits for Redis to have counted it.
 * Generations seen by the breaker are this handle's own: they change whenever either circuit
 * changes, so a late outcome never reaches either.
 */
export class RedisCircuit implements CircuitHandle {
  readonly name: string;
  /** @internal The circuit's keys, in the scripts' KEYS order. */
  readonly keys: readonly string[];
  /** @internal The configuration Redis should hold for this circuit. */
  readonly config: ScriptConfig;
  /** @internal Its JSON, sent only when Redis asks for it. */
  readonly configJson: string;
  /** @internal Its fingerprint, sent with every script call. */
  readonly fingerprint: string;
  private readonly local: Circuit;
  /** Identifies the circuit if this instance's call creates it in Redis. */
  private readonly newId = randomBytes(8).toString('hex');
  private fleet: Fleet | undefined;
  /** Whether decisions are the fleet's: the store reaches Redis, and the configurations match. */
  private shared: boolean;
  /** Whether the store reaches Redis. */
  private storeShared: boolean;
  /** Set while the configuration in Redis differs from this instance's. */
  private mismatch: CircuitConfigMismatchError | undefined;
  private readonly counts: OutcomeCounts;
  /** Whether the batch waits for a free slot (see `maxInFlight`). */
  private awaitingSlot = false;
  private readonly batchTurn: Waiter = {
    start: () => {
      this.awaitingSlot = false;
      this.flush();
    },
  };
  private bound = true;
  private epoch: number;
  /**
   * Whether the own circuit decided admissions at the last {@link bump}: not shared, or its state
   * is not CLOSED. Outcomes of calls it admitted then go to it (see `settle`).
   */
  private ownDecided: boolean;
  private localGeneration: number;
  private effective: CircuitState;
  private since: number;
  /**
   * Fleet probes in flight, by the ticket each was admitted with. A probe's outcome is the
   * fleet's whatever happened on this instance meanwhile (Redis lost and back, the own circuit
   * moved): Redis's script ignores it if the fleet moved on, and otherwise it must settle the lease,
   * or the fleet's probe slot stays taken until probeExpiry.
   */
  private readonly probes = new Map<number, HeldProbe>();
  /** The next fleet probe's ticket: each probe settles its own lease, not the oldest one. */
  private nextFleetTicket = FLEET_TICKET_BASE;
  /** Fleet probe outcomes to send when Redis is back. */
  private unsent: UnsentProbe[] = [];
  private leaseCount = 0;
  private readonly batch: OutcomeBatch;
  private batchGeneration = -1;
  private flushPending = false;
  private refreshing = false;
  /** Failures on their way to Redis, whose verdict this instance has not heard yet. */
  private sentFailures = 0;
  /**
   * Counts the times `sentFailures` was written off (Redis lost): an answer, or a timeout, that
   * arrives afterwards for a batch sent before must not subtract its failures a second time.
   */
  private ackRound = 0;
  private ackWaiters: Array<() => void> = [];
  /** This instance's own view of its outcomes while the fleet decides (bad-instance protection). */
  private readonly ownPolicy: TripPolicy;
  /** What the own policy said at the last outcome, to act on once Redis has answered. */
  private ownVerdict: TripReason | undefined;

  constructor(
    private readonly store: RedisStore,
    private readonly binding: CircuitBinding,
    shared: SharedConfig,
    mismatch: CircuitConfigMismatchError | undefined,
  ) {
    this.name = binding.name;
    this.config = shared.config;
    this.configJson = shared.json;
    this.fingerprint = shared.fingerprint;
    this.counts = store.outcomes;
    this.mismatch = mismatch;
    const tag = `${store.prefix}{${binding.name}}`;
    this.keys = [tag, `${tag}:leases`, `${tag}:ring`, `${tag}:buckets`, `${tag}:sources`];
    this.local = new Circuit({
      config: binding.config,
      clock: binding.clock,
      random: binding.random,
      initialState: binding.initialState,
      onTransition: (t) => this.bump(t.reason, t.openDuration),
    });
    this.ownPolicy = createPolicy(binding.config.policy);
    const policy = binding.config.policy;
    this.batch = new OutcomeBatch(slowCallDurationOf(policy), collapsesSuccesses(policy));
    this.epoch = this.localGeneration = this.local.currentGeneration;
    this.effective = this.local.currentState;
    this.since = binding.clock.now();
    this.storeShared = store.status === 'shared';
    this.shared = this.storeShared && mismatch === undefined;
    this.ownDecided = !this.shared || this.local.currentState !== CircuitState.Closed;
  }

  /**
   * @internal A script call's own arguments (ARGV 4 to 6): a fresh random draw for the jitter, a
   * custom backoff's next period (-1: none), and the id for a circuit this call creates.
   */
  callArgs(): [number, number, string] {
    const backoff = this.binding.config.backoff;
    const custom =
      typeof backoff === 'function'
        ? Math.ceil(
            openPeriod(
              this.binding.config.openDuration,
              backoff,
              (this.fleet?.failedProbes ?? 0) + 1,
              this.binding.random,
            ),
          )
        : -1;
    return [this.binding.random(), custom, this.newId];
  }

  /** @internal Whether the configuration in Redis differs from this instance's. */
  get mismatched(): boolean {
    return this.mismatch !== undefined;
  }

  // --- CircuitHandle -----------------------------------------------------------------------------

  state(): CircuitState {
    this.local.state();
    const f = this.fleet;
    if (this.shared && f?.state === CircuitState.Open && this.now() >= f.openUntil) this.refresh();
    return this.effective;
  }

  tryAcquire(): number {
    const f = this.fleet;
    if (this.shared && f !== undefined && this.local.currentState === CircuitState.Closed) {
      switch (f.state) {
        case CircuitState.ForcedOpen:
          return REJECTED_FORCED_OPEN;
        case CircuitState.Open:
          return this.now() < f.openUntil ? REJECTED_OPEN : ACQUIRE_ASYNC;
        case CircuitState.HalfOpen:
          return this.now() < f.fullUntil ? REJECTED_HALF_OPEN : ACQUIRE_ASYNC;
      }
      // After a failure, admit only once Redis has counted it: otherwise an instance whose calls
      // fail fast would keep sending failing calls until the fleet's verdict reached it.
      if (f.state === CircuitState.Closed && this.unacknowledged() > 0) return ACQUIRE_ASYNC;
    }
    return this.localAcquire();
  }

  async acquire(): Promise<number> {
    // A CLOSED fleet and failures of this instance not yet counted: wait for Redis's answer (it
    // comes within commandTimeout, or the store degrades and wakes everyone), then decide again.
    // While callers wait no new call starts here, so the wait ends.
    while (
      this.shared &&
      this.fleet?.state === CircuitState.Closed &&
      this.local.currentState === CircuitState.Closed &&
      this.unacknowledged() > 0
    ) {
      await new Promise<void>((resolve) => this.ackWaiters.push(resolve));
      if (!this.bound) return REJECTED_OPEN;
    }
    const f0 = this.fleet;
    if (
      !this.shared ||
      f0 === undefined ||
      this.local.currentState !== CircuitState.Closed ||
      f0.state === CircuitState.Closed ||
      f0.state === CircuitState.Disabled
    ) {
      const generation = this.tryAcquire();
      return generation === ACQUIRE_ASYNC ? this.acquire() : generation;
    }
    if (f0.state === CircuitState.ForcedOpen) return REJECTED_FORCED_OPEN;
    if (f0.state === CircuitState.Open && this.now() < f0.openUntil) return REJECTED_OPEN;
    const lease = `${this.store.instanceId}:${++this.leaseCount}`;
    let reply: FleetReply;
    try {
      reply = await this.store.run('acquire', this, [lease]);
    } catch (error) {
      // Redis could not answer: the store is degraded now, and the call is decided locally. A slow
      // Redis may still run the request and grant the lease: it is released once Redis is back.
      // (A configuration that differs: Redis changed nothing, and this circuit decides alone.)
      if (!isCircuitConfigMismatchError(error))
        this.unsent.push({ generation: -1, lease, kind: 'I' });
      return this.localAcquire();
    }
    if (!this.bound) {
      if (reply.admitted && reply.state === CircuitState.HalfOpen) {
        this.settleProbe(reply.generation, lease, 'I');
      }
      return REJECTED_HALF_OPEN;
    }
    this.adopt(reply);
    const f = this.fleet!;
    const leased = reply.admitted && reply.state === CircuitState.HalfOpen;
    if (!this.shared) {
      if (leased) this.settleProbe(reply.generation, lease, 'I');
      return this.localAcquire();
    }
    if (reply.admitted && f.generation === reply.generation && f.id === reply.id) {
      const generation = this.local.tryAcquire();
      if (generation < 0) {
        if (leased) this.settleProbe(reply.generation, lease, 'I');
        return generation;
      }
      return leased ? this.holdProbe(reply, lease) : this.epoch;
    }
    if (leased) this.settleProbe(reply.generation, lease, 'I');
    if (reply.state === CircuitState.HalfOpen) f.fullUntil = this.now() + reply.wait;
    return f.state === CircuitState.ForcedOpen
      ? REJECTED_FORCED_OPEN
      : f.state === CircuitState.Open
        ? REJECTED_OPEN
        : REJECTED_HALF_OPEN;
  }

  success(generation: number, duration: number): void {
    this.settle(generation, 'S', duration);
  }

  failure(generation: number, duration: number): void {
    this.settle(generation, 'F', duration);
  }

  release(generation: number): void {
    this.settle(generation, 'I', NaN);
  }

  transition(
    to: 'CLOSED' | 'FORCED_OPEN' | 'DISABLED',
    reason: 'reset' | 'isolate' | 'disable',
  ): void {
    if (!this.bound) return;
    this.local.transition(to, reason);
    if (!this.shared) return;
    this.store.run('transition', this, [to, reason]).then(
      (reply) => this.adopt(reply),
      () => undefined,
    );
  }

  retryAfter(): number | undefined {
    const f = this.fleet;
    if (!this.fleetDecides() || f === undefined) return this.local.retryAfter();
    if (f.state === CircuitState.Open) return Math.max(0, Math.ceil(f.openUntil - this.now()));
    if (f.state === CircuitState.HalfOpen) return 0;
    return undefined;
  }

  view(): CircuitView {
    const v = this.local.view();
    const f = this.fleet;
    const fleet = this.fleetDecides() && f !== undefined;
    return {
      ...v,
      state: this.state(),
      generation: this.epoch,
      since: this.since,
      openedAt: this.effective === CircuitState.Open ? this.since : undefined,
      retryAfter: this.retryAfter(),
      failedProbes: fleet ? f.failedProbes : v.failedProbes,
      probesInFlight: fleet ? this.probesHeld(f) : v.probesInFlight,
    };
  }

  snapshot(): CircuitSnapshot {
    const f = this.fleet;
    if (!this.fleetDecides() || f === undefined) {
      return { ...this.local.snapshot(), generation: this.epoch };
    }
    const base = {
      state: f.state,
      generation: this.epoch,
      since: this.since,
      failedProbes: f.failedProbes,
    };
    return f.state === CircuitState.Open
      ? { ...base, openedAt: this.since, openUntil: f.openUntil }
      : base;
  }

  unbind(): void {
    if (!this.bound) return;
    this.bound = false;
    this.sentFailures = 0;
    this.ackRound++;
    this.probes.clear();
    this.unsent = [];
    this.dropBatch('stale');
    this.local.unbind();
    this.store.unbind(this);
  }

  storeStatus(): StoreStatus {
    return this.shared ? 'shared' : 'degraded';
  }

  // --- used by RedisStore ------------------------------------------------------------------------

  /** @internal The store gained or lost Redis. */
  setShared(shared: boolean, error?: unknown): void {
    this.storeShared = shared;
    this.applyShared(error);
  }

  /**
   * @internal The configuration in Redis differs from this instance's (`error`), or matches again
   * (`undefined`). `hint`: the fleet's state, for a circuit that has not shared it yet.
   */
  setMismatch(error: CircuitConfigMismatchError | undefined, hint?: FleetHint): void {
    const was = this.mismatch;
    this.mismatch = error;
    if (
      error !== undefined &&
      was === undefined &&
      this.fleet === undefined &&
      hint !== undefined
    ) {
      // Deciding alone from the start: begin where the fleet is (an outage it knows stays known).
      if (this.bound && this.local.currentState === CircuitState.Closed) {
        this.local.adopt(hint.state, hint.remaining, hint.failedProbes);
      }
    }
    if (error !== undefined && was === undefined && !this.shared && this.bound) {
      // Already deciding alone (the store has not reached Redis yet, say): the status is the same,
      // the reason is new, and must be seen.
      this.binding.onStoreStatus?.('degraded', error);
      return;
    }
    this.applyShared(error);
  }

  /** Decides on the fleet's circuit or on the own one, as the store and the configuration allow. */
  private applyShared(error: unknown): void {
    const shared = this.storeShared && this.mismatch === undefined;
    if (this.shared === shared || !this.bound) return;
    this.shared = shared;
    this.dropBatch(this.mismatch !== undefined ? 'mismatch' : 'unavailable');
    if (shared) {
      // Probes that ended while Redis was away: their leases are still taken in Redis.
      const unsent = this.unsent;
      this.unsent = [];
      for (const p of unsent) this.settleProbe(p.generation, p.lease, p.kind);
    } else {
      // Answers from a Redis that is gone will never come: nobody waits for them.
      this.sentFailures = 0;
      this.ackRound++;
      this.acknowledge(0);
      // Decide locally from what the fleet last said: an outage it knew about stays known.
      const f = this.fleet;
      if (f !== undefined && this.local.currentState === CircuitState.Closed) {
        this.local.adopt(f.state, f.openUntil - this.now(), f.failedProbes);
      }
    }
    this.bump('remote');
    this.binding.onStoreStatus?.(shared ? 'shared' : 'degraded', error ?? this.mismatch);
  }

  /** @internal Takes the fleet's state as Redis has it now, whatever this copy believed. */
  adoptFromSync(reply: FleetReply): void {
    if (!this.bound) return;
    const f = this.fleet;
    // The same state as this copy's (Redis came back, nothing happened meanwhile): its last
    // transition was applied already. Taken as new, a fleet-wide reset() of long ago would be
    // applied again, resetting the own circuit of an instance that was failing while Redis was away.
    if (f === undefined || f.id !== reply.id || f.generation !== reply.generation) {
      this.fleet = undefined;
    }
    this.adopt(reply);
  }

  /**
   * @internal Takes a newer fleet state, from a script's answer or a pushed transition. An older or
   * equal one only refreshes the open period's end.
   */
  adopt(reply: FleetReply): void {
    if (!this.bound) return;
    const f = this.fleet;
    const openUntil = this.now() + reply.remaining;
    if (f !== undefined && f.id === reply.id && reply.generation <= f.generation) {
      if (reply.generation === f.generation) {
        f.openUntil = openUntil;
        f.failedProbes = reply.failedProbes;
      }
      return;
    }
    this.fleet = {
      state: reply.state,
      generation: reply.generation,
      id: reply.id,
      openUntil,
      failedProbes: reply.failedProbes,
      fullUntil: 0,
    };
    // The fleet moved on: what this instance saw is accounted for in the fleet's decision.
    this.ownPolicy.reset();
    this.ownVerdict = undefined;
    // Leases of an older generation are void (the script would ignore their outcomes).
    for (const [ticket, held] of this.probes) {
      if (held.id !== reply.id || held.generation !== reply.generation) this.probes.delete(ticket);
    }
    if (this.batchGeneration !== -1) this.dropBatch('stale');
    const reason = REASONS.has(reply.reason) ? (reply.reason as TransitionReason) : 'remote';
    // A manual transition is the whole fleet's: it applies to this instance's own circuit too.
    if (reason === 'isolate' || reason === 'disable' || reason === 'reset') {
      const manual = reply.state as 'CLOSED' | 'FORCED_OPEN' | 'DISABLED';
      if (manual !== this.local.currentState || manual === CircuitState.Closed) {
        this.local.transition(manual, reason);
      }
    }
    this.bump(reason, reply.state === CircuitState.Open ? reply.remaining : undefined);
  }

  /** @internal Reads the fleet's state (and lets Redis make the transitions time has made due). */
  resync(): void {
    this.refresh();
  }

  // --- internals ---------------------------------------------------------------------------------

  private now(): number {
    return this.binding.clock.now();
  }

  /** Whether the fleet's copy decides the state (shared, and this instance's own circuit is CLOSED). */
  private fleetDecides(): boolean {
    return this.shared && this.local.currentState === CircuitState.Closed;
  }

  /**
   * Admits a call by the own circuit: a rejection, the own circuit's probe ticket (the probe settles
   * its own slot there, whatever happens to the fleet meanwhile), or this handle's epoch.
   */
  private localAcquire(): number {
    const ticket = this.local.tryAcquire();
    return ticket < 0 || ticket >= PROBE_TICKET_BASE ? ticket : this.epoch;
  }

  private settle(generation: number, kind: 'S' | 'F' | 'I', duration: number): void {
    if (!this.bound) return;
    const held = this.probes.size === 0 ? undefined : this.probes.get(generation);
    if (held !== undefined) {
      // A fleet probe: whatever changed here since it was admitted, its lease is the fleet's.
      this.probes.delete(generation);
      this.settleProbe(held.generation, held.lease, kind);
      return;
    }
    if (generation >= PROBE_TICKET_BASE) {
      // A probe of the own circuit, which knows whether it still counts.
      if (kind === 'S') this.local.success(generation, duration);
      else if (kind === 'F') this.local.failure(generation, duration);
      else this.local.release(generation);
      return;
    }
    if (generation !== this.epoch) return;
    if (!this.shared || this.local.currentState !== CircuitState.Closed) {
      // This instance's own circuit decides (Redis is away, or this instance alone was failing).
      const localGeneration = this.localGeneration;
      if (kind === 'S') this.local.success(localGeneration, duration);
      else if (kind === 'F') this.local.failure(localGeneration, duration);
      else this.local.release(localGeneration);
      return;
    }
    const f = this.fleet;
    if (kind !== 'I' && (f === undefined || f.state === CircuitState.Closed)) {
      // This instance's own view, acted on once Redis has counted these outcomes.
      const now = this.ownPolicy.needsTime ? this.now() : 0;
      const verdict =
        kind === 'S'
          ? this.ownPolicy.success(now, duration)
          : this.ownPolicy.failure(now, duration);
      if (verdict !== undefined) this.ownVerdict = verdict;
    }
    if (f === undefined) {
      // The fleet's state is still on its way: these outcomes count if the circuit is CLOSED.
      if (kind !== 'I') this.enqueue(-1, kind, duration);
      return;
    }
    if (f.state === CircuitState.Closed && kind !== 'I') this.enqueue(f.generation, kind, duration);
  }

  /** Keeps a fleet probe's lease under a ticket of its own, which the call settles with. */
  private holdProbe(reply: FleetReply, lease: string): number {
    const ticket = this.nextFleetTicket++;
    this.probes.set(ticket, { id: reply.id, generation: reply.generation, lease });
    return ticket;
  }

  private probesHeld(f: Fleet): number {
    let n = 0;
    for (const held of this.probes.values()) {
      if (held.id === f.id && held.generation === f.generation) n++;
    }
    return n;
  }

  /**
   * Sends a fleet probe's outcome, or keeps it until Redis is back. Sending it twice is harmless:
   * the script settles a lease once, and ignores it if the fleet's generation moved on.
   */
  private settleProbe(generation: number, lease: string, kind: 'S' | 'F' | 'I'): void {
    if (!this.bound) return;
    if (!this.shared) {
      this.unsent.push({ generation, lease, kind });
      return;
    }
    this.store.run('probe', this, [generation, lease, kind]).then(
      (reply) => this.adopt(reply),
      () => {
        if (this.bound) this.unsent.push({ generation, lease, kind });
      },
    );
  }

  /** Queues an outcome; everything queued in one event-loop turn goes to Redis in one script. */
  private enqueue(generation: number, kind: 'S' | 'F', duration: number): void {
    if (this.batchGeneration !== generation) {
      this.dropBatch('stale');
      this.batchGeneration = generation;
    }
    const counts = this.counts;
    counts.queued++;
    if (this.awaitingSlot && kind === 'S' && this.batch.work >= MAX_BATCH) {
      // Redis is slow to answer (every slot taken) and this batch is full: a failure still goes
      // (the fleet's trip must not miss it, and after it no new call is admitted until Redis has
      // counted it), a success does not.
      counts.overflow++;
      return;
    }
    counts.pending++;
    this.batch.add(kind === 'F', duration);
    if (this.batch.work >= MAX_BATCH) {
      this.flush();
    } else if (kind === 'F') {
      // A failure may trip the fleet: send it (with whatever else is queued) before the next tick.
      queueMicrotask(() => this.flush());
    } else if (!this.flushPending) {
      this.flushPending = true;
      setImmediate(() => {
        this.flushPending = false;
        this.flush();
      });
    }
  }

  private flush(): void {
    // Its turn comes when a slot is free (the store calls this again); it sends all there is then.
    if (this.awaitingSlot) return;
    const batch = this.batch;
    if (!this.bound || !this.shared || batch.outcomes === 0) {
      this.dropBatch(this.bound ? 'unavailable' : 'stale');
      return;
    }
    if (!this.store.slotForBatch(this.batchTurn)) {
      this.awaitingSlot = true;
      return;
    }
    const failures = batch.failures;
    const sent = batch.outcomes;
    const outcomes = batch.encode();
    batch.clear();
    this.sentFailures += failures;
    const round = this.ackRound;
    const counts = this.counts;
    this.store
      .run('record', this, [this.batchGeneration, this.store.instanceId, outcomes])
      .then(
        (reply) => {
          counts.pending -= sent;
          counts.recorded += sent;
          this.adopt(reply);
          this.actOnOwnVerdict();
        },
        (error: unknown) => {
          counts.pending -= sent;
          if (isCircuitConfigMismatchError(error)) counts.mismatch += sent;
          else counts.unavailable += sent;
        },
      )
      .finally(() => this.acknowledge(round === this.ackRound ? failures : 0));
  }

  /**
   * Redis has counted this instance's outcomes and the fleet is still closed: if this instance's
   * own policy says trip, it alone is failing (or not enough instances are failing to open the
   * fleet), so it opens its own circuit.
   */
  private actOnOwnVerdict(): void {
    const verdict = this.ownVerdict;
    if (verdict === undefined || !this.shared || this.fleet?.state !== CircuitState.Closed) return;
    this.ownVerdict = undefined;
    this.ownPolicy.reset();
    this.local.trip(verdict);
  }

  private unacknowledged(): number {
    return this.batch.failures + this.sentFailures;
  }

  /** Redis has answered for `failures` failures (or they were dropped): wake waiting callers. */
  private acknowledge(failures: number): void {
    this.sentFailures -= failures;
    if (this.unacknowledged() > 0 || this.ackWaiters.length === 0) return;
    const waiters = this.ackWaiters;
    this.ackWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Drops queued outcomes (their generation is over, or Redis is gone), counting them. */
  private dropBatch(reason: 'unavailable' | 'mismatch' | 'stale'): void {
    const n = this.batch.outcomes;
    if (n > 0) {
      this.counts.pending -= n;
      this.counts[reason] += n;
      this.batch.clear();
    }
    if (this.awaitingSlot) {
      this.awaitingSlot = false;
      this.store.cancelBatch(this.batchTurn);
    }
    this.acknowledge(0);
  }

  private refresh(): void {
    if (this.refreshing || !this.shared) return;
    this.refreshing = true;
    this.store
      .run('sync', this, [])
      .then(
        (reply) => this.adopt(reply),
        () => undefined,
      )
      .finally(() => (this.refreshing = false));
  }

  /**
   * Either circuit changed, or the store gained or lost Redis: a new generation, and an event if
   * the state the breaker sees changed. Except when the own circuit decided before and still does,
   * and has not changed itself: then nothing the breaker sees changed, and the calls it admitted
   * are still its calls. Their outcomes must reach it: a probe of the own circuit whose outcome was
   * dropped would hold its slot until probeExpiry, refusing every call on this instance.
   */
  private bump(reason: TransitionReason, openDuration?: number): void {
    const from = this.effective;
    const ownDecides = !this.shared || this.local.currentState !== CircuitState.Closed;
    if (ownDecides && this.ownDecided && this.local.currentGeneration === this.localGeneration) {
      return;
    }
    this.ownDecided = ownDecides;
    this.epoch++;
    this.localGeneration = this.local.currentGeneration;
    const local = this.local.currentState;
    const f = this.fleet;
    const to = this.shared && f !== undefined && local === CircuitState.Closed ? f.state : local;
    this.effective = to;
    if (to === from) return;
    const at = this.now();
    this.since = at;
    const transition: CircuitTransition =
      to === CircuitState.Open && openDuration !== undefined
        ? { from, to, reason, generation: this.epoch, at, openDuration }
        : { from, to, reason, generation: this.epoch, at };
    this.binding.onTransition(transition);
  }
}
