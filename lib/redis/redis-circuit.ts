import { randomBytes } from 'node:crypto';
import {
  ACQUIRE_ASYNC,
  type CircuitBinding,
  type CircuitHandle,
  type CircuitSnapshot,
  CircuitState,
  type CircuitView,
  collapsesSuccesses,
  type LocalCircuit,
  nextOpenPeriod,
  REJECTED_FORCED_OPEN,
  REJECTED_HALF_OPEN,
  REJECTED_OPEN,
  slowCallDurationOf,
  type StoreStatus,
} from '../core/internal.js';
import type { SharedConfig } from './circuit-config.js';
import {
  type CircuitConfigMismatchError,
  isCircuitConfigMismatchError,
} from './config-mismatch.error.js';
import { FleetProbes } from './fleet-probes.js';
import { FleetState } from './fleet-state.js';
import { OutcomeBatch } from './outcome-batch.js';
import { OutcomeSender } from './outcome-sender.js';
import type { ScriptConfig } from './scripts.js';
import type {
  FleetHint,
  FleetReply,
  ScriptCaller,
  ScriptRunner,
} from './script-runner.interface.js';
import { StateArbiter } from './state-arbiter.js';

/**
 * One breaker's connection to a circuit shared through Redis.
 *
 * It holds three things: a copy of the fleet's circuit (updated by script answers and pushed
 * transitions, see {@link FleetState}), the breaker's own in-memory circuit, and, while shared,
 * this instance's own trip policy; a {@link StateArbiter} decides which circuit decides. Admission
 * reads both synchronously; only a half-open fleet needs Redis (for a probe lease, see
 * {@link FleetProbes}), and, after a failure, the next admission waits for Redis to have counted
 * it (see {@link OutcomeSender}).
 */
export class RedisCircuit implements CircuitHandle, ScriptCaller {
  readonly name: string;
  /** @internal The circuit's keys, in the scripts' KEYS order. */
  readonly keys: readonly string[];
  /** @internal The configuration Redis should hold for this circuit. */
  readonly config: ScriptConfig;
  /** @internal Its JSON, sent only when Redis asks for it. */
  readonly configJson: string;
  /** @internal Its fingerprint, sent with every script call. */
  readonly fingerprint: string;
  /** Identifies the circuit if this instance's call creates it in Redis. */
  private readonly newId = randomBytes(8).toString('hex');
  private readonly fleet = new FleetState();
  private readonly arbiter: StateArbiter;
  /** The own circuit (the arbiter's). */
  private readonly local: LocalCircuit;
  private readonly sender: OutcomeSender<RedisCircuit>;
  private readonly probes: FleetProbes<RedisCircuit>;
  private bound = true;
  private refreshing = false;

  constructor(
    private readonly runner: ScriptRunner<RedisCircuit>,
    private readonly binding: CircuitBinding,
    shared: SharedConfig,
    mismatch: CircuitConfigMismatchError | undefined,
  ) {
    this.name = binding.name;
    this.config = shared.config;
    this.configJson = shared.json;
    this.fingerprint = shared.fingerprint;
    const tag = `${runner.prefix}{${binding.name}}`;
    this.keys = [tag, `${tag}:leases`, `${tag}:ring`, `${tag}:buckets`, `${tag}:sources`];
    const isBound = () => this.bound;
    const isShared = () => this.arbiter.shared;
    this.arbiter = new StateArbiter(binding, this.fleet, runner.status === 'shared', mismatch, {
      bound: isBound,
      sharingChanged: (shared, reason) => {
        this.sender.drop(reason);
        if (shared) this.probes.sendUnsent();
        else this.sender.writeOff();
      },
    });
    this.local = this.arbiter.local;
    const policy = binding.config.policy;
    const batch = new OutcomeBatch(slowCallDurationOf(policy), collapsesSuccesses(policy));
    this.sender = new OutcomeSender(runner, this, batch, {
      bound: isBound,
      shared: isShared,
      recorded: (reply) => {
        this.adopt(reply);
        this.arbiter.actOnOwnVerdict();
      },
    });
    this.probes = new FleetProbes(runner, this, {
      bound: isBound,
      shared: isShared,
      adopt: (reply) => this.adopt(reply),
    });
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
            nextOpenPeriod(
              this.binding.config,
              (this.fleet.current?.failedProbes ?? 0) + 1,
              this.binding.random,
            ),
          )
        : -1;
    return [this.binding.random(), custom, this.newId];
  }

  /** @internal Whether the configuration in Redis differs from this instance's. */
  get mismatched(): boolean {
    return this.arbiter.mismatch !== undefined;
  }

  // --- CircuitHandle -----------------------------------------------------------------------------

  state(): CircuitState {
    this.local.state();
    const f = this.fleet.current;
    if (this.arbiter.shared && f?.state === CircuitState.Open && this.now() >= f.openUntil) {
      this.refresh();
    }
    return this.arbiter.effective;
  }

  tryAcquire(): number {
    const f = this.fleet.current;
    if (this.arbiter.shared && f !== undefined && this.local.currentState === CircuitState.Closed) {
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
      if (f.state === CircuitState.Closed && this.sender.unacknowledged() > 0) return ACQUIRE_ASYNC;
    }
    return this.arbiter.localAcquire();
  }

  async acquire(): Promise<number> {
    // A CLOSED fleet and failures of this instance not yet counted: wait for Redis's answer (it
    // comes within commandTimeout, or the store degrades and wakes everyone), then decide again.
    // While callers wait no new call starts here, so the wait ends.
    while (
      this.arbiter.shared &&
      this.fleet.current?.state === CircuitState.Closed &&
      this.local.currentState === CircuitState.Closed &&
      this.sender.unacknowledged() > 0
    ) {
      await this.sender.waitForAcknowledgement();
      if (!this.bound) return REJECTED_OPEN;
    }
    const f0 = this.fleet.current;
    if (
      !this.arbiter.shared ||
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
    const lease = this.probes.nextLease();
    let reply: FleetReply;
    try {
      reply = await this.runner.run('acquire', this, [lease]);
    } catch (error) {
      // Redis could not answer: the store is degraded now, and the call is decided locally. A slow
      // Redis may still run the request and grant the lease: it is released once Redis is back.
      // (A configuration that differs: Redis changed nothing, and this circuit decides alone.)
      if (!isCircuitConfigMismatchError(error)) this.probes.keepUnsent(lease);
      return this.arbiter.localAcquire();
    }
    const leased = reply.admitted && reply.state === CircuitState.HalfOpen;
    if (!this.bound) {
      if (leased) this.probes.settle(reply.generation, lease, 'I');
      return REJECTED_HALF_OPEN;
    }
    this.adopt(reply);
    const f = this.fleet.current!;
    if (!this.arbiter.shared) {
      if (leased) this.probes.settle(reply.generation, lease, 'I');
      return this.arbiter.localAcquire();
    }
    if (reply.admitted && f.generation === reply.generation && f.id === reply.id) {
      const generation = this.local.tryAcquire();
      if (generation < 0) {
        if (leased) this.probes.settle(reply.generation, lease, 'I');
        return generation;
      }
      return leased ? this.probes.hold(reply, lease) : this.arbiter.epoch;
    }
    if (leased) this.probes.settle(reply.generation, lease, 'I');
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
    if (!this.arbiter.shared) return;
    this.runner.run('transition', this, [to, reason]).then(
      (reply) => this.adopt(reply),
      () => undefined,
    );
  }

  retryAfter(): number | undefined {
    const f = this.fleet.current;
    if (!this.arbiter.fleetDecides() || f === undefined) return this.local.retryAfter();
    if (f.state === CircuitState.Open) return Math.max(0, Math.ceil(f.openUntil - this.now()));
    if (f.state === CircuitState.HalfOpen) return 0;
    return undefined;
  }

  view(): CircuitView {
    const v = this.local.view();
    const f = this.fleet.current;
    const fleet = this.arbiter.fleetDecides() && f !== undefined;
    const a = this.arbiter;
    return {
      ...v,
      state: this.state(),
      generation: a.epoch,
      since: a.since,
      openedAt: a.effective === CircuitState.Open ? a.since : undefined,
      retryAfter: this.retryAfter(),
      failedProbes: fleet ? f.failedProbes : v.failedProbes,
      probesInFlight: fleet ? this.probes.heldIn(f) : v.probesInFlight,
    };
  }

  snapshot(): CircuitSnapshot {
    const f = this.fleet.current;
    const a = this.arbiter;
    if (!a.fleetDecides() || f === undefined) {
      return { ...this.local.snapshot(), generation: a.epoch };
    }
    const base = {
      state: f.state,
      generation: a.epoch,
      since: a.since,
      failedProbes: f.failedProbes,
    };
    return f.state === CircuitState.Open
      ? { ...base, openedAt: a.since, openUntil: f.openUntil }
      : base;
  }

  unbind(): void {
    if (!this.bound) return;
    this.bound = false;
    this.sender.writeOff();
    this.probes.clear();
    this.sender.drop('stale');
    this.local.unbind();
    this.runner.unbind(this);
  }

  storeStatus(): StoreStatus {
    return this.arbiter.shared ? 'shared' : 'degraded';
  }

  // --- used by RedisStore ------------------------------------------------------------------------

  /** @internal The store gained or lost Redis. */
  setShared(shared: boolean, error?: unknown): void {
    this.arbiter.setStoreShared(shared, error);
  }

  /**
   * @internal The configuration in Redis differs from this instance's (`error`), or matches again
   * (`undefined`). `hint`: the fleet's state, for a circuit that has not shared it yet.
   */
  setMismatch(error: CircuitConfigMismatchError | undefined, hint?: FleetHint): void {
    this.arbiter.setMismatch(error, hint);
  }

  /** @internal Takes the fleet's state as Redis has it now, whatever this copy believed. */
  adoptFromSync(reply: FleetReply): void {
    if (!this.bound) return;
    // Taken as new when it is the same, a fleet-wide reset() of long ago would be applied again,
    // resetting the own circuit of an instance that was failing while Redis was away.
    this.fleet.forgetUnlessAt(reply);
    this.adopt(reply);
  }

  /**
   * @internal Takes a newer fleet state, from a script's answer or a pushed transition. An older or
   * equal one only refreshes the open period's end.
   */
  adopt(reply: FleetReply): void {
    if (!this.bound || !this.fleet.take(reply, this.now())) return;
    // Leases of an older generation are void (the script would ignore their outcomes).
    this.probes.voidBefore(reply);
    if (this.sender.generation !== -1) this.sender.drop('stale');
    this.arbiter.fleetMoved(reply);
  }

  /** @internal Reads the fleet's state (and lets Redis make the transitions time has made due). */
  resync(): void {
    this.refresh();
  }

  // --- internals ---------------------------------------------------------------------------------

  private now(): number {
    return this.binding.clock.now();
  }

  private settle(ticket: number, kind: 'S' | 'F' | 'I', duration: number): void {
    if (!this.bound) return;
    const held = this.probes.take(ticket);
    if (held !== undefined) {
      // A fleet probe: whatever changed here since it was admitted, its lease is the fleet's.
      this.probes.settle(held.generation, held.lease, kind);
      return;
    }
    if (this.arbiter.settleOwn(ticket, kind, duration) || kind === 'I') return;
    const f = this.fleet.current;
    if (f !== undefined && f.state !== CircuitState.Closed) return;
    this.arbiter.observe(kind, duration);
    // f undefined: the fleet's state is still on its way; these outcomes count if it is CLOSED.
    this.sender.enqueue(f === undefined ? -1 : f.generation, kind, duration);
  }

  private refresh(): void {
    if (this.refreshing || !this.arbiter.shared) return;
    this.refreshing = true;
    this.runner
      .run('sync', this, [])
      .then(
        (reply) => this.adopt(reply),
        () => undefined,
      )
      .finally(() => (this.refreshing = false));
  }
}
