import { openPeriod } from './backoff.js';
import { CircuitState, type TransitionReason, type TripReason } from './circuit-state.js';
import type { Clock } from './clock.js';
import { createPolicy } from './policies/index.js';
import type { TripPolicy } from './policies/trip-policy.js';
import type { CircuitSnapshot } from './snapshot.js';
import {
  REJECTED_FORCED_OPEN,
  REJECTED_HALF_OPEN,
  REJECTED_OPEN,
  PROBE_TICKET_BASE,
  type CircuitBinding,
  type CircuitHandle,
  type CircuitTransition,
  type CircuitView,
} from './store/circuit-store.js';
import type { CircuitConfig } from './circuit-config.js';

/**
 * The circuit's inner state. Each state carries what it needs and nothing else: only `OPEN` has an
 * end time, only `HALF_OPEN` has probes.
 */
type InnerState =
  | { readonly state: typeof CircuitState.Closed; readonly since: number }
  | {
      readonly state: typeof CircuitState.Open;
      readonly since: number;
      readonly openUntil: number;
      readonly failedProbes: number;
    }
  | {
      readonly state: typeof CircuitState.HalfOpen;
      readonly since: number;
      readonly failedProbes: number;
      /** Probes that succeeded. Slots taken: these and the probes in flight. */
      succeeded: number;
      /**
       * The probes in flight: ticket to admission time, in admission order (so oldest first: the
       * circuit's readings never go back). Each probe settles its own entry, so a probe that hangs
       * keeps its own admission time and expires `probeExpiry` after it, whatever the others do.
       */
      readonly probes: Map<number, number>;
    }
  | { readonly state: typeof CircuitState.ForcedOpen; readonly since: number }
  | { readonly state: typeof CircuitState.Disabled; readonly since: number };

type HalfOpenState = Extract<InnerState, { state: typeof CircuitState.HalfOpen }>;

/**
 * The circuit breaker state machine, in memory: the whole of the engine's decision-making.
 *
 * Every transition is one synchronous step (check, then act, with nothing in between), so it
 * happens exactly once however many calls settle in the same tick. Each transition increments the
 * generation; an outcome reported for any other generation than the current one changes nothing.
 * There are no timers: `OPEN` becomes `HALF_OPEN`, and an expired probe re-opens the circuit, when
 * the next call or state read notices that the time has come.
 */
export class Circuit implements CircuitHandle {
  private inner: InnerState;
  private generation: number;
  private readonly policy: TripPolicy;
  /** The policy's `needsTime`, read once: a field of the circuit is one shape on the hot path. */
  private readonly policyNeedsTime: boolean;
  private consecutiveFailures = 0;
  /** The latest clock reading: readings are never allowed to go back. */
  private lastNow: number;
  private bound = true;
  private readonly config: CircuitConfig;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly notify: (transition: CircuitTransition) => void;
  private readonly slotFreed: (() => void) | undefined;
  /** The next probe ticket: unique for the circuit's life, so a stale ticket matches no probe. */
  private nextTicket = PROBE_TICKET_BASE;

  constructor(
    binding: Pick<
      CircuitBinding,
      'config' | 'clock' | 'random' | 'initialState' | 'onTransition' | 'onProbeSlotFreed'
    >,
  ) {
    this.config = binding.config;
    this.clock = binding.clock;
    this.random = binding.random;
    this.notify = binding.onTransition;
    this.slotFreed = binding.onProbeSlotFreed;
    this.policy = createPolicy(this.config.policy);
    this.policyNeedsTime = this.policy.needsTime;
    const start = this.clock.now();
    this.lastNow = Number.isFinite(start) ? start : 0;
    const restored = binding.initialState;
    this.generation = restored?.generation ?? 0;
    this.inner = restored
      ? restore(restored, longestOpenPeriod(this.config))
      : { state: CircuitState.Closed, since: this.lastNow };
  }

  /** The current state, without applying any time-based transition. */
  get currentState(): CircuitState {
    return this.inner.state;
  }

  /** The current generation (no time-based transition is applied). */
  get currentGeneration(): number {
    return this.generation;
  }

  state(): CircuitState {
    const inner = this.inner;
    if (inner.state === CircuitState.Open || inner.state === CircuitState.HalfOpen) {
      this.advance(this.now());
    }
    return this.inner.state;
  }

  tryAcquire(): number {
    const state = this.inner.state;
    if (state === CircuitState.Closed || state === CircuitState.Disabled) return this.generation;
    return this.acquireSlow();
  }

  success(ticket: number, duration: number): void {
    if (!this.bound) return;
    const inner = this.inner;
    if (ticket === this.generation) {
      if (inner.state === CircuitState.Closed) {
        this.consecutiveFailures = 0;
        const reason = this.policy.success(this.policyNeedsTime ? this.now() : 0, duration);
        if (reason !== undefined) this.open(reason, 0);
      }
      return;
    }
    // Settle time-based business first: a probe that outlived its permit has already re-opened
    // the circuit, whether or not anyone looked, and its success is then late.
    if (!this.settleProbe(inner, ticket)) return;
    const probing = inner as HalfOpenState;
    if (++probing.succeeded >= this.config.halfOpenMaxCalls) this.close('probes-succeeded');
  }

  failure(ticket: number, duration: number): void {
    if (!this.bound) return;
    const inner = this.inner;
    if (ticket === this.generation) {
      if (inner.state === CircuitState.Closed) {
        this.consecutiveFailures++;
        const reason = this.policy.failure(this.policyNeedsTime ? this.now() : 0, duration);
        if (reason !== undefined) this.open(reason, 0);
      } else if (inner.state === CircuitState.Disabled) {
        this.consecutiveFailures++;
      }
      return;
    }
    if (!this.settleProbe(inner, ticket)) return;
    this.open('probe-failed', (inner as HalfOpenState).failedProbes + 1);
  }

  release(ticket: number): void {
    if (!this.bound || ticket === this.generation) return;
    const inner = this.inner;
    if (!this.settleProbe(inner, ticket)) return;
    this.slotFreed?.();
  }

  /**
   * Opens a CLOSED circuit for `reason`, as its own policy would. Used by a shared store when the
   * shared circuit finds that this breaker alone is failing.
   */
  trip(reason: TripReason): void {
    if (this.bound && this.inner.state === CircuitState.Closed) this.open(reason, 0);
  }

  /**
   * Takes a state decided elsewhere: a shared store that became unreachable hands its last known
   * state to the breaker's own circuit, so an outage the fleet knew about stays known. `OPEN` lasts
   * `remaining` ms; a `HALF_OPEN` one continues as `OPEN` with its period over (the next call probes).
   */
  adopt(state: CircuitState, remaining: number, failedProbes: number): void {
    if (!this.bound || state === this.inner.state) return;
    const now = this.now();
    if (state === CircuitState.Open || state === CircuitState.HalfOpen) {
      const period = state === CircuitState.Open ? Math.max(0, remaining) : 0;
      this.moveTo(
        { state: CircuitState.Open, since: now, openUntil: now + period, failedProbes },
        'remote',
        period,
      );
    } else if (state === CircuitState.Closed) {
      this.close('remote');
    } else {
      this.moveTo({ state, since: now }, 'remote', undefined);
    }
  }

  transition(
    to: 'CLOSED' | 'FORCED_OPEN' | 'DISABLED',
    reason: 'reset' | 'isolate' | 'disable',
  ): void {
    if (!this.bound) return;
    // A reset always starts a fresh CLOSED generation, even from CLOSED, so that outcomes of calls
    // admitted before it no longer count. Isolating or disabling twice changes nothing.
    if (this.inner.state === to && to !== CircuitState.Closed) return;
    if (to === CircuitState.Closed) this.close(reason);
    else this.moveTo({ state: to, since: this.now() }, reason, undefined);
  }

  /**
   * Moves to `OPEN` (for the configured open period, as a trip) or `HALF_OPEN` (no probe in
   * flight) by hand, for tests: a transition like any other (reason `forced`, a new generation).
   */
  force(to: 'OPEN' | 'HALF_OPEN'): void {
    if (!this.bound) return;
    if (to === CircuitState.Open) this.open('forced', 0);
    else this.moveTo(halfOpen(this.now(), 0), 'forced', undefined);
  }

  view(): CircuitView {
    const now = this.now();
    this.advance(now);
    const inner = this.inner;
    return {
      state: inner.state,
      generation: this.generation,
      since: inner.since,
      openedAt: inner.state === CircuitState.Open ? inner.since : undefined,
      retryAfter: this.retryAfterAt(now),
      failedProbes: 'failedProbes' in inner ? inner.failedProbes : 0,
      consecutiveFailures: this.consecutiveFailures,
      probesInFlight: inner.state === CircuitState.HalfOpen ? inner.probes.size : 0,
      window: this.policy.view(now),
    };
  }

  /** Milliseconds until probes may go, as `CircuitOpenError.retryAfter` reports it. */
  retryAfter(): number | undefined {
    return this.retryAfterAt(this.now());
  }

  snapshot(): CircuitSnapshot {
    this.advance(this.now());
    const inner = this.inner;
    const base = {
      state: inner.state,
      generation: this.generation,
      since: inner.since,
      failedProbes: 'failedProbes' in inner ? inner.failedProbes : 0,
    };
    return inner.state === CircuitState.Open
      ? { ...base, openedAt: inner.since, openUntil: inner.openUntil }
      : base;
  }

  unbind(): void {
    this.bound = false;
  }

  private now(): number {
    const t = this.clock.now();
    // A clock stepping back (or a hostile one returning NaN) must not reopen a closed period or
    // stretch an open one: hold the latest good reading instead.
    if (t > this.lastNow) this.lastNow = t;
    return this.lastNow;
  }

  private acquireSlow(): number {
    const now = this.now();
    this.advance(now);
    const inner = this.inner;
    switch (inner.state) {
      case CircuitState.Closed:
      case CircuitState.Disabled:
        return this.generation;
      case CircuitState.Open:
        return REJECTED_OPEN;
      case CircuitState.ForcedOpen:
        return REJECTED_FORCED_OPEN;
      case CircuitState.HalfOpen: {
        if (inner.probes.size + inner.succeeded >= this.config.halfOpenMaxCalls) {
          return REJECTED_HALF_OPEN;
        }
        const ticket = this.nextTicket++;
        inner.probes.set(ticket, now);
        return ticket;
      }
    }
  }

  /**
   * Removes the probe `ticket` from the current half-open state, once time-based transitions are
   * applied. Returns whether it was one of its probes (not a stale or foreign ticket, and the
   * circuit is still in the state that admitted it).
   */
  private settleProbe(inner: InnerState, ticket: number): boolean {
    if (inner.state !== CircuitState.HalfOpen || !inner.probes.has(ticket)) return false;
    this.advance(this.now());
    if (this.inner !== inner) return false;
    inner.probes.delete(ticket);
    return true;
  }

  /** Applies the transitions that time alone makes due. */
  private advance(now: number): void {
    const inner = this.inner;
    if (inner.state === CircuitState.Open) {
      if (now >= inner.openUntil) {
        this.moveTo(halfOpen(now, inner.failedProbes), 'open-period-elapsed', undefined);
      }
    } else if (inner.state === CircuitState.HalfOpen && inner.probes.size > 0) {
      const oldest = inner.probes.values().next().value!;
      if (now - oldest >= this.config.probeExpiry) {
        this.open('probe-expired', inner.failedProbes + 1);
      }
    }
  }

  private retryAfterAt(now: number): number | undefined {
    const inner = this.inner;
    if (inner.state === CircuitState.Open) return Math.max(0, Math.ceil(inner.openUntil - now));
    if (inner.state === CircuitState.HalfOpen) return 0;
    return undefined;
  }

  private open(reason: TransitionReason, failedProbes: number): void {
    const now = this.now();
    const period = openPeriod(
      this.config.openDuration,
      this.config.backoff,
      failedProbes,
      this.random,
    );
    this.moveTo(
      { state: CircuitState.Open, since: now, openUntil: now + period, failedProbes },
      reason,
      period,
    );
  }

  private close(reason: TransitionReason): void {
    this.policy.reset();
    this.consecutiveFailures = 0;
    this.moveTo({ state: CircuitState.Closed, since: this.now() }, reason, undefined);
  }

  private moveTo(
    next: InnerState,
    reason: TransitionReason,
    openDuration: number | undefined,
  ): void {
    const from = this.inner.state;
    this.inner = next;
    const generation = ++this.generation;
    this.notify(
      openDuration === undefined
        ? { from, to: next.state, reason, generation, at: next.since }
        : { from, to: next.state, reason, generation, at: next.since, openDuration },
    );
  }
}

/** A `HALF_OPEN` state from `since`, with no probe yet. */
function halfOpen(since: number, failedProbes: number): HalfOpenState {
  return { state: CircuitState.HalfOpen, since, failedProbes, succeeded: 0, probes: new Map() };
}

/** The longest open period `config` can produce, in ms (`Infinity` with a backoff function). */
function longestOpenPeriod(config: CircuitConfig): number {
  const backoff = config.backoff;
  if (typeof backoff === 'function') return Infinity;
  return backoff === undefined ? config.openDuration : backoff.maxDuration;
}

/**
 * The state a snapshot describes. An open period longer than the configuration can produce (a
 * snapshot taken under a longer `openDuration`, say) is shortened to the longest it can.
 */
function restore(snapshot: CircuitSnapshot, longest: number): InnerState {
  switch (snapshot.state) {
    case CircuitState.Open: {
      const openedAt = snapshot.openedAt ?? snapshot.since;
      return {
        state: CircuitState.Open,
        since: openedAt,
        openUntil: Math.min(snapshot.openUntil ?? snapshot.since, openedAt + longest),
        failedProbes: snapshot.failedProbes,
      };
    }
    case CircuitState.HalfOpen:
      // Probes do not survive a restart: restore as open with the period over, so the next call
      // is a fresh probe.
      return {
        state: CircuitState.Open,
        since: snapshot.since,
        openUntil: snapshot.since,
        failedProbes: snapshot.failedProbes,
      };
    default:
      return { state: snapshot.state, since: snapshot.since };
  }
}
