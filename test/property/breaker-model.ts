/**
 * A reference model of the breaker, written for clarity, not speed: the policy is evaluated by
 * recounting the whole history since the circuit last closed, probes and queues are plain arrays.
 * The property tests drive it and the real `Breaker` with the same commands and compare them.
 */

export type PolicyKind = 'consecutive' | 'count-window' | 'time-window' | 'slow-call';

export interface ModelConfig {
  readonly policy: PolicyKind;
  readonly failureThreshold: number;
  readonly windowSize: number;
  readonly minimumCalls: number;
  readonly failureRateThreshold: number;
  readonly windowDuration: number;
  readonly windowBuckets: number;
  readonly slowCallDuration: number;
  readonly slowCallRateThreshold: number;
  readonly openDuration: number;
  /** Exponential backoff with a fixed random draw, or none. */
  readonly backoff: { multiplier: number; maxDuration: number; jitter: number } | undefined;
  readonly randomDraw: number;
  readonly halfOpenMaxCalls: number;
  readonly probeExpiry: number;
  /** 0: no timeout. */
  readonly timeout: number;
  /** 0: no bulkhead. */
  readonly maxConcurrent: number;
  readonly maxQueue: number;
}

export type Settlement = 'success' | 'failure' | 'ignored';

/** What a caller ends up with. */
export type CallResult =
  | 'ok'
  | 'failure'
  | 'ignored'
  | 'timeout'
  | 'rejected:OPEN'
  | 'rejected:HALF_OPEN'
  | 'rejected:FORCED_OPEN'
  | 'rejected:bulkhead'
  | 'disposed';

export interface ModelCall {
  readonly id: number;
  phase: 'queued' | 'running' | 'finished';
  generation: number;
  start: number;
  /** Admission order: timeouts due at the same time fire in this order. */
  admitted: number;
  result: CallResult | undefined;
  /** The test has settled the call's promise (possibly after it timed out). */
  settled: boolean;
}

type State = 'CLOSED' | 'OPEN' | 'HALF_OPEN' | 'FORCED_OPEN' | 'DISABLED';

interface Outcome {
  readonly at: number;
  readonly failed: boolean;
  readonly slow: boolean;
}

export class BreakerModel {
  now = 0;
  state: State = 'CLOSED';
  generation = 0;
  since = 0;
  openUntil = 0;
  failedProbes = 0;
  probesAdmitted = 0;
  probesSucceeded = 0;
  /** The probes still running, oldest first: each settles its own entry (README: probeExpiry). */
  probes: ModelCall[] = [];
  consecutiveFailures = 0;
  /** Outcomes recorded by the policy since the circuit last closed. */
  history: Outcome[] = [];
  disposed = false;
  readonly transitions: string[] = [];
  readonly calls: ModelCall[] = [];
  readonly queue: ModelCall[] = [];
  running = 0;
  private admissions = 0;
  readonly counters = {
    calls: 0,
    successes: 0,
    failures: 0,
    timeouts: 0,
    ignored: 0,
    open: 0,
    halfOpen: 0,
    forcedOpen: 0,
    bulkhead: 0,
    slowCalls: 0,
    opens: 0,
  };

  constructor(readonly config: ModelConfig) {}

  // --- time ------------------------------------------------------------------------------------

  /** Transitions that time alone makes due (what a state read or an admission notices). */
  private notice(): void {
    if (this.state === 'OPEN' && this.now >= this.openUntil) {
      this.move('HALF_OPEN', 'open-period-elapsed');
      this.probesAdmitted = 0;
      this.probesSucceeded = 0;
      this.probes = [];
    } else if (
      this.state === 'HALF_OPEN' &&
      this.probes.length > 0 &&
      this.now - this.probes[0]!.start >= this.config.probeExpiry
    ) {
      this.open('probe-expired', this.failedProbes + 1);
    }
  }

  /** Moves time to `target`, timing out running calls in deadline order on the way. */
  advance(ms: number): void {
    const target = this.now + ms;
    if (this.config.timeout > 0) {
      const due = this.calls
        .filter((c) => c.phase === 'running' && c.start + this.config.timeout <= target)
        .sort((a, b) => a.start - b.start || a.admitted - b.admitted);
      for (const call of due) {
        this.now = Math.max(this.now, call.start + this.config.timeout);
        this.finish(call, 'timeout');
        this.counters.calls++;
        this.counters.timeouts++;
        if (this.isSlow(this.config.timeout)) this.counters.slowCalls++;
        this.record(call, 'failure', this.config.timeout);
      }
    }
    this.now = target;
    this.pumpQueue();
  }

  readState(): State {
    this.notice();
    return this.state;
  }

  // --- calls -----------------------------------------------------------------------------------

  start(): ModelCall {
    const call: ModelCall = {
      id: this.calls.length,
      phase: 'queued',
      generation: -1,
      start: 0,
      admitted: -1,
      result: undefined,
      settled: false,
    };
    this.calls.push(call);
    if (this.disposed) {
      this.finish(call, 'disposed');
    } else if (this.config.maxConcurrent === 0 || this.running < this.config.maxConcurrent) {
      this.admit(call);
    } else {
      const state = this.readState();
      if (state === 'OPEN' || state === 'FORCED_OPEN') this.reject(call, state);
      // README: HALF_OPEN "admits exactly halfOpenMaxCalls probes; every other caller is rejected
      // at once", whether or not the bulkhead has room.
      else if (state === 'HALF_OPEN' && this.probesAdmitted >= this.config.halfOpenMaxCalls)
        this.reject(call, 'HALF_OPEN');
      else if (this.queue.length >= this.config.maxQueue) this.reject(call, 'bulkhead');
      else this.queue.push(call);
    }
    return call;
  }

  private admit(call: ModelCall): void {
    if (this.state === 'OPEN' || this.state === 'HALF_OPEN') this.notice();
    if (this.state === 'OPEN' || this.state === 'FORCED_OPEN') {
      this.reject(call, this.state);
    } else if (this.state === 'HALF_OPEN' && this.probesAdmitted >= this.config.halfOpenMaxCalls) {
      this.reject(call, 'HALF_OPEN');
    } else {
      if (this.state === 'HALF_OPEN') {
        this.probesAdmitted++;
        this.probes.push(call);
      }
      if (this.config.maxConcurrent > 0) this.running++;
      call.phase = 'running';
      call.generation = this.generation;
      call.start = this.now;
      call.admitted = this.admissions++;
    }
  }

  private reject(call: ModelCall, why: 'OPEN' | 'HALF_OPEN' | 'FORCED_OPEN' | 'bulkhead'): void {
    this.counters.calls++;
    if (why === 'OPEN') this.counters.open++;
    else if (why === 'HALF_OPEN') this.counters.halfOpen++;
    else if (why === 'FORCED_OPEN') this.counters.forcedOpen++;
    else this.counters.bulkhead++;
    this.finish(call, why === 'bulkhead' ? 'rejected:bulkhead' : `rejected:${why}`);
  }

  /** The test settles a call's promise. A call that already timed out is not counted again. */
  settle(call: ModelCall, how: Settlement): void {
    call.settled = true;
    if (call.phase !== 'running') return;
    const duration = this.now - call.start;
    this.finish(call, how === 'success' ? 'ok' : how);
    this.counters.calls++;
    if (how === 'ignored') {
      this.counters.ignored++;
    } else {
      if (how === 'success') this.counters.successes++;
      else this.counters.failures++;
      if (this.isSlow(duration)) this.counters.slowCalls++;
    }
    this.record(call, how, duration);
    this.pumpQueue();
  }

  private finish(call: ModelCall, result: CallResult): void {
    if (call.phase === 'running' && this.config.maxConcurrent > 0) this.running--;
    call.phase = 'finished';
    call.result = result;
  }

  private pumpQueue(): void {
    while (!this.disposed && this.queue.length > 0 && this.running < this.config.maxConcurrent) {
      this.admit(this.queue.shift()!);
    }
  }

  // --- the circuit -----------------------------------------------------------------------------

  private isSlow(duration: number): boolean {
    return this.config.policy === 'slow-call' && duration >= this.config.slowCallDuration;
  }

  /** Applies an outcome to the circuit, if it belongs to the current generation. */
  private record(call: ModelCall, how: Settlement, duration: number): void {
    if (this.disposed || call.generation !== this.generation) return;
    if (this.state === 'CLOSED') {
      if (how === 'ignored') return;
      this.consecutiveFailures = how === 'failure' ? this.consecutiveFailures + 1 : 0;
      this.history.push({ at: this.now, failed: how === 'failure', slow: this.isSlow(duration) });
      const reason = this.tripReason();
      if (reason) this.open(reason, 0);
    } else if (this.state === 'HALF_OPEN') {
      this.notice();
      if (call.generation !== this.generation) return;
      this.probes.splice(this.probes.indexOf(call), 1);
      if (how === 'ignored') this.probesAdmitted--;
      else if (how === 'failure') this.open('probe-failed', this.failedProbes + 1);
      else if (++this.probesSucceeded >= this.config.halfOpenMaxCalls)
        this.close('probes-succeeded');
    } else if (this.state === 'DISABLED' && how === 'failure') {
      this.consecutiveFailures++;
    }
  }

  /** The trip rule of each policy, by recounting the history. */
  private tripReason(): string | undefined {
    const c = this.config;
    const window = this.window();
    const failures = window.filter((o) => o.failed).length;
    const slow = window.filter((o) => o.slow).length;
    switch (c.policy) {
      case 'consecutive': {
        let streak = 0;
        for (let i = this.history.length - 1; i >= 0 && this.history[i]!.failed; i--) streak++;
        return streak >= c.failureThreshold ? 'consecutive-failures' : undefined;
      }
      case 'count-window':
      case 'time-window':
        return window.length >= c.minimumCalls &&
          failures > 0 &&
          failures / window.length >= c.failureRateThreshold
          ? 'failure-rate'
          : undefined;
      case 'slow-call':
        if (window.length < c.minimumCalls) return undefined;
        if (failures > 0 && failures / window.length >= c.failureRateThreshold)
          return 'failure-rate';
        if (slow > 0 && slow / window.length >= c.slowCallRateThreshold) return 'slow-call-rate';
        return undefined;
    }
  }

  /** The outcomes the policy currently considers. */
  window(): Outcome[] {
    const c = this.config;
    if (c.policy === 'consecutive') return this.history;
    if (c.policy === 'time-window') {
      const span = c.windowDuration / c.windowBuckets;
      const head = Math.floor(this.now / span);
      return this.history.filter((o) => Math.floor(o.at / span) > head - c.windowBuckets);
    }
    return this.history.slice(-c.windowSize);
  }

  private open(reason: string, failedProbes: number): void {
    const c = this.config;
    let period = c.openDuration;
    if (c.backoff) {
      const grown = Math.min(
        c.openDuration * c.backoff.multiplier ** failedProbes,
        c.backoff.maxDuration,
      );
      period = Math.max(
        1,
        Math.min(c.backoff.maxDuration, grown * (1 + c.backoff.jitter * (2 * c.randomDraw - 1))),
      );
    }
    this.move('OPEN', reason);
    this.failedProbes = failedProbes;
    this.openUntil = this.now + period;
    this.counters.opens++;
  }

  private close(reason: string): void {
    this.move('CLOSED', reason);
    this.failedProbes = 0;
    this.history = [];
    this.consecutiveFailures = 0;
  }

  private move(to: State, reason: string): void {
    // A disposed breaker still answers state reads (lazily), but has no listeners left.
    if (!this.disposed) this.transitions.push(`${this.state}>${to}:${reason}`);
    this.state = to;
    this.since = this.now;
    this.generation++;
  }

  // --- manual control --------------------------------------------------------------------------

  // Only OPEN and HALF_OPEN carry a backoff history: a manual state starts without one.
  isolate(): void {
    if (this.state === 'FORCED_OPEN') return;
    this.move('FORCED_OPEN', 'isolate');
    this.failedProbes = 0;
  }

  disable(): void {
    if (this.state === 'DISABLED') return;
    this.move('DISABLED', 'disable');
    this.failedProbes = 0;
  }

  reset(): void {
    this.close('reset');
  }

  dispose(): void {
    this.disposed = true;
    for (const call of this.queue.splice(0)) this.finish(call, 'disposed');
  }
}
