/**
 * A reference model of one `Breaker`, written from README.md (and ../shared/DESIGN.md, "Semantics"
 * and "Concurrency") only, without reading `lib/` or the older model (./breaker-model.ts). Every
 * rule quotes the README sentence it implements, with its section; where the README leaves a
 * choice open, the reading taken is marked `AMBIGUOUS:`.
 *
 * The model is deterministic and synchronous. The spec (./readme.property.spec.ts) drives it with
 * the same commands as the real breaker: start a call (async or sync), settle a running function,
 * advance the clock, read the state, isolate / disable / reset, dispose; and listeners ("reactors")
 * that call isolate / disable / reset from inside an event.
 *
 * Section names used in the quotes:
 *   [Guarantees]  "Guarantees, and how they are proven"
 *   [Trips]       "Choosing how a circuit trips"
 *   [Options]     "Options"
 *   [Calls]       "Calls, fallbacks, timeouts, bulkhead"
 *   [Events]      "Events and statistics"
 *   [Errors]      "Errors"
 *   [Clock]       "Testing your code with a manual clock"
 *   [FAQ]         "FAQ"
 *   [Configuring] "Configuring many breakers" (its option checks restate the engine's)
 *   [Decorating]  "Decorating a method" (its fallback rules restate the engine's)
 *   [DESIGN]      ../shared/DESIGN.md, "Semantics" / "Concurrency"
 */

export type State = 'CLOSED' | 'OPEN' | 'HALF_OPEN' | 'FORCED_OPEN' | 'DISABLED';
export type PolicyKind = 'consecutive' | 'count-window' | 'time-window' | 'slow-call';
/** How the test ends a running function: resolve, reject with a failure, with an ignored error,
 * or with an error `isFailure` calls a success. A hung function is one the test never settles. */
export type Outcome = 'success' | 'failure' | 'ignored' | 'answered';
export type ManualAction = 'isolate' | 'disable' | 'reset';
/** The event a reactor listens to; `stateChange>X` is a stateChange whose `to` is X. */
export type ReactorTrigger =
  | 'stateChange>OPEN'
  | 'stateChange>HALF_OPEN'
  | 'stateChange>CLOSED'
  | 'open'
  | 'close'
  | 'halfOpen'
  | 'failure'
  | 'success'
  | 'rejection';

export interface Reactor {
  readonly on: ReactorTrigger;
  readonly action: ManualAction;
  /** How many times it acts; afterwards it listens and does nothing. */
  readonly times: number;
}

export type FallbackMode = 'none' | 'all' | 'refusals-only';

export interface ReadmeConfig {
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
  /** `{ multiplier, maxDuration }` with `jitter: 0`, or none. */
  readonly backoff: { readonly multiplier: number; readonly maxDuration: number } | undefined;
  readonly halfOpenMaxCalls: number;
  readonly probeExpiry: number;
  /** 0: no `timeout` option. */
  readonly timeout: number;
  /** 0: no `maxConcurrent` option. */
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  readonly fallback: FallbackMode;
  readonly reactors: readonly Reactor[];
}

/** The value a fallback answers with, in the spec and the model. */
export const FALLBACK_VALUE = -1;

/**
 * What a caller received: `value:<id>` (its own function's value), `fallback`, `failure`,
 * `ignored`, `answered` (the error `isFailure` called a success), `timeout`,
 * `open:<state>:<retryAfter>` (a CircuitOpenError), `bulkhead`, `disposed`.
 */
export type CallerResult = string;

export interface ModelCall {
  readonly id: number;
  readonly sync: boolean;
  /** queued: waiting for a bulkhead slot; running: the function was invoked and the breaker still
   * waits for it; done: the breaker has its outcome (or refused the call). */
  phase: 'queued' | 'running' | 'done';
  /** The function was invoked and the test has not settled it (it may still settle after a
   * timeout: the spec may settle it then). */
  fnRunning: boolean;
  /** Generation of the state that admitted the call (-1 until admitted). */
  generation: number;
  probe: boolean;
  startedAt: number;
  timeoutDue: number | undefined;
  result: CallerResult | undefined;
}

/** Recorded order of delivered events, split in two streams (see AMBIGUOUS in `deliver`). */
export interface EventLogs {
  /** stateChange, open, close, halfOpen: `stateChange:FROM>TO@gen`, `open:<openDuration>`, ... */
  readonly transitions: string[];
  /** success, failure, timeout, ignored, rejection. */
  readonly outcomes: string[];
}

interface QueuedEvent {
  readonly type: string;
  readonly text: string;
  readonly to?: State;
}

interface WindowEntry {
  readonly at: number;
  readonly failed: boolean;
  readonly slow: boolean;
}

/**
 * Known discrepancies between this model and the current code, by name. Each switch makes the
 * model emulate the code's behaviour (as observed, not as read) for that one point, so that a run
 * can look past a known defect for others (PROPERTY_TOLERATE in the spec). None is on by default:
 * the model is the README.
 */
export type Tolerance =
  /** (1) Settling a probe forgets the oldest probe's start time, not its own (so does a probe
   * permit executeSync gives back when the bulkhead refuses it). */
  | 'expiry-oldest'
  /** (2) Window policies evaluate the rate only after a failure. */
  | 'window-success'
  /** (3) Events a listener causes are delivered before the rest of the outer step's events. */
  | 'nested-events'
  /** A call's outcome event (success, failure, ...) is delivered, and its listeners run, before
   * the breaker acts on that outcome (a listener can reset the circuit mid-step). */
  | 'outcome-listener-first'
  /** In HALF_OPEN, execute() consults the bulkhead before the probe limit: with a full bulkhead,
   * callers beyond the probes wait in the bulkhead queue, or get BulkheadRejectedError. */
  | 'half-open-bulkhead-first';

export const TOLERANCES: readonly Tolerance[] = [
  'expiry-oldest',
  'window-success',
  'nested-events',
  'outcome-listener-first',
  'half-open-bulkhead-first',
];

export class ReadmeBreakerModel {
  now = 0;
  state: State = 'CLOSED';
  generation = 0;
  disposed = false;

  // Lifetime counters. [Events] "the lifetime counters `calls`, `successes`, `failures`,
  // `timeouts`, `ignored`, `rejections` (and `rejectionsByReason`), `slowCalls`, `fallbacks`".
  readonly counters = {
    calls: 0,
    successes: 0,
    failures: 0,
    timeouts: 0,
    ignored: 0,
    rejections: 0,
    slowCalls: 0,
    fallbacks: 0,
    opens: 0,
  };
  readonly rejectionsByReason = { open: 0, halfOpen: 0, forcedOpen: 0, bulkhead: 0 };

  // The circuit.
  openUntil = 0;
  failedProbes = 0;
  /** Probe slots taken in the current HALF_OPEN generation (an ignored probe gives its back). */
  probeSlots = 0;
  probeSuccesses = 0;
  consecutiveFailures = 0;
  window: WindowEntry[] = [];

  readonly calls: ModelCall[] = [];
  readonly queue: ModelCall[] = [];
  readonly logs: EventLogs = { transitions: [], outcomes: [] };

  private readonly pending: QueuedEvent[] = [];
  private delivering = false;
  private readonly reactorsLeft: number[];
  private timerSeq = 0;
  private readonly timers: Array<{ due: number; seq: number; call: ModelCall }> = [];

  /** Start times of the probes of the current HALF_OPEN generation still counted as running. */
  private probeStarts: number[] = [];
  /** A probe of the current HALF_OPEN generation has settled (for coverage only). */
  private probeSettled = false;

  /** Situations this run reached (for the spec's PROPERTY_COVERAGE report; no rule reads it). */
  readonly reached = new Set<string>();
  private reach(label: string): void {
    this.reached.add(label);
  }

  constructor(
    readonly config: ReadmeConfig,
    private readonly tolerate: ReadonlySet<Tolerance> = new Set(),
  ) {
    this.reactorsLeft = config.reactors.map((r) => r.times);
  }

  // ---------------------------------------------------------------------------------------------
  // Reads

  /**
   * [Guarantees] "`OPEN` becomes `HALF_OPEN` when the next call or state read finds the open
   * period over". `breaker.state` is a state read.
   */
  readState(): State {
    this.touch();
    this.deliver();
    return this.state;
  }

  /** Calls the breaker is waiting for. */
  inFlight(): number {
    return this.calls.filter((c) => c.phase === 'running').length;
  }

  /** [Trips] "failure rate over the last `windowSize` calls" / "over the last `windowDuration` ms" */
  windowEntries(): WindowEntry[] {
    if (this.config.policy === 'time-window') {
      // AMBIGUOUS: "the last `windowDuration` ms" is read as the half-open interval
      // (now - windowDuration, now]. The README does not say where bucket boundaries lie; the spec
      // keeps every instant at which something happens on a multiple of
      // windowDuration / windowBuckets, where any bucketing of (now - D, now] agrees with this one.
      return this.window.filter((e) => this.now - e.at < this.config.windowDuration);
    }
    // [Trips] "the last `windowSize` calls"
    return this.window.slice(-this.config.windowSize);
  }

  // ---------------------------------------------------------------------------------------------
  // Calls

  /**
   * `breaker.execute(fn)` (sync = false) or `breaker.executeSync(fn)` (sync = true, with the
   * outcome the function has at once). Returns the call; its `result` is what the caller got (for
   * an async call still running: undefined).
   */
  start(sync: false): ModelCall;
  start(sync: true, outcome: Outcome): ModelCall;
  start(sync: boolean, outcome?: Outcome): ModelCall {
    const call: ModelCall = {
      id: this.calls.length,
      sync,
      phase: 'done',
      fnRunning: false,
      generation: -1,
      probe: false,
      startedAt: this.now,
      timeoutDue: undefined,
      result: undefined,
    };
    this.calls.push(call);
    if (this.disposed) {
      // [Calls] "`breaker.dispose()` ... refuses further calls"; [Errors] "`BreakerDisposedError`
      // | the breaker was disposed".
      // AMBIGUOUS: a call refused after disposal is not a `call` in the counters (the README's
      // `rejectionsByReason` is about the circuit and the bulkhead) and no fallback answers it
      // (the fallback answers "refused, failed and timed-out calls"; disposal is read as the end
      // of the breaker, not a refusal of this call).
      call.result = 'disposed';
      return call;
    }
    // [Guarantees] "`OPEN` becomes `HALF_OPEN` when the next call or state read finds the open
    // period over"
    this.touch();
    const refusal = this.circuitRefusal();
    const bulkheadFull =
      this.config.maxConcurrent > 0 && this.inFlight() >= this.config.maxConcurrent;
    if (
      refusal === 'halfOpen' &&
      this.tolerate.has('half-open-bulkhead-first') &&
      bulkheadFull &&
      !sync
    ) {
      if (this.queue.length < this.config.maxQueue) {
        call.phase = 'queued';
        this.queue.push(call);
        this.reach('queued');
      } else {
        this.refuse(call, 'bulkhead');
      }
    } else if (refusal !== undefined) {
      this.refuse(call, refusal);
    } else if (bulkheadFull) {
      // [Calls] "With `maxConcurrent`, calls beyond the limit wait in a queue of `maxQueue`
      // (async-mutex semaphore) or are rejected with `BulkheadRejectedError`."
      // AMBIGUOUS: a synchronous call cannot wait, so executeSync with a full bulkhead is
      // rejected by the bulkhead even when the queue has room.
      if (!sync && this.queue.length < this.config.maxQueue) {
        call.phase = 'queued';
        this.queue.push(call);
        this.reach('queued');
      } else {
        if (sync && this.state === 'HALF_OPEN' && this.tolerate.has('expiry-oldest')) {
          // The code's executeSync takes a probe permit before the bulkhead refuses it; giving
          // the permit back forgets the oldest probe's start time (observed: defect (1) again).
          this.probeStarts.push(this.now);
          this.probeStarts.shift();
        }
        this.refuse(call, 'bulkhead');
      }
    } else {
      this.admit(call);
      if (sync) this.finishSync(call, outcome!);
    }
    this.deliver();
    return call;
  }

  /** The test settles a running function (or one whose caller already got a timeout). */
  settle(call: ModelCall, outcome: Outcome): void {
    call.fnRunning = false;
    if (call.phase === 'running') this.record(call, outcome);
    // [Guarantees] "a timeout is counted once even if the call settles later": a function that
    // settles after its timeout changes nothing.
    this.deliver();
    this.runQueue();
  }

  /**
   * `clock.advance(ms)`. [Clock] "timers scheduled on the clock run in order". The only timers are
   * call timeouts ([Guarantees] "A timer exists only while a call with a `timeout` runs, or a
   * caller waits for a half-open verdict", and halfOpenWaitTimeout stays 0).
   */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      this.timers.sort((a, b) => a.due - b.due || a.seq - b.seq);
      const next = this.timers[0];
      if (next === undefined || next.due > target) break;
      this.timers.shift();
      this.now = next.due;
      if (next.call.phase === 'running') {
        // [Options] `timeout`: "per-call timeout: aborts the call's `AbortSignal`, rejects with
        // `CallTimeoutError`, counts a timeout"
        // AMBIGUOUS: a timer firing is neither "a call" nor "a state read", so it applies no lazy
        // transition (open period over, probe expired) before recording the timeout.
        this.record(next.call, 'timeout');
        this.deliver();
      }
    }
    this.now = target;
    // AMBIGUOUS: a bulkhead slot freed by a timeout goes to the next queued call after the clock
    // step (the semaphore hands it over on a later microtask, when advance() has returned).
    this.runQueue();
  }

  // ---------------------------------------------------------------------------------------------
  // Manual control

  /**
   * [Calls] "Manual control: `breaker.isolate()` holds the circuit open (`FORCED_OPEN`) until
   * `reset()`; `breaker.disable()` lets everything through while still counting (`DISABLED`);
   * `breaker.reset()` closes the circuit and forgets the window and the backoff (lifetime counters
   * stay)."
   */
  manual(action: ManualAction): void {
    if (this.disposed) return;
    this.act(action);
    this.deliver();
    this.runQueue();
  }

  /**
   * [Calls] "`breaker.dispose()` ... refuses further calls, turns away queued and waiting callers,
   * removes listeners and releases the store; calls already running finish."
   * [FAQ] "`dispose()` removes every listener. Calls already running still finish and are counted
   * in `stats()`."
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.inFlight() > 0) this.reach('dispose() with calls running');
    for (const call of this.queue.splice(0)) {
      call.phase = 'done';
      // AMBIGUOUS: a queued caller turned away by dispose() gets BreakerDisposedError, is not
      // counted (as a call refused after disposal), and no fallback answers it.
      call.result = 'disposed';
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  private act(action: ManualAction): void {
    // AMBIGUOUS: every manual transition ends the backoff (`failedProbes` back to 0), not only
    // reset() ("forgets the window and the backoff"): FORCED_OPEN and DISABLED are left only
    // through CLOSED, so the difference shows in `stats().failedProbes` alone.
    const before = this.generation;
    this.manualAct(action);
    if (this.generation !== before) this.failedProbes = 0;
  }

  private manualAct(action: ManualAction): void {
    switch (action) {
      case 'isolate':
        // AMBIGUOUS: isolate() on a FORCED_OPEN circuit changes nothing (no event, no generation).
        if (this.state !== 'FORCED_OPEN') this.transition('FORCED_OPEN');
        break;
      case 'disable':
        // AMBIGUOUS: disable() on a DISABLED circuit changes nothing.
        // [Calls] "`breaker.isolate()` holds the circuit open (`FORCED_OPEN`) until `reset()` (or
        // `disable()`)": disable() takes FORCED_OPEN to DISABLED.
        if (this.state !== 'DISABLED') this.transition('DISABLED');
        break;
      case 'reset':
        // [FAQ] "Does `reset()` clear the statistics? No: counters are lifetime counters, like
        // metrics. It starts a fresh `CLOSED` generation, so outcomes of calls admitted before it
        // no longer count."
        // AMBIGUOUS: reset() of a CLOSED circuit starts a new generation (the FAQ) and, like any
        // other new state, emits stateChange CLOSED>CLOSED and close.
        this.failedProbes = 0; // "forgets ... the backoff"
        this.transition('CLOSED');
        break;
    }
  }

  /**
   * The lazy transitions a call or a state read performs.
   * AMBIGUOUS: finding the open period over (or a probe expired) is a step of its own: its events
   * are delivered, and listeners act, before the call that found it is admitted, in the state
   * they leave.
   */
  private touch(): void {
    this.lazyTransitions();
    this.deliver();
  }

  private lazyTransitions(): void {
    // [Clock] `clock.advance(1_000); // the open period is over` after `openDuration: 1_000`:
    // the open period is over once now >= openUntil.
    if (this.state === 'OPEN' && this.now >= this.openUntil) this.transition('HALF_OPEN');
    if (this.state === 'HALF_OPEN') {
      // [Guarantees] "A probe that never settles cannot strand the breaker: after `probeExpiry` it
      // counts as failed." [Options] `probeExpiry`: "a probe running longer counts as failed and
      // re-opens the circuit". [DESIGN] "A probe that never settles does not strand the breaker:
      // its permit expires."
      // AMBIGUOUS: [Options] says "running longer" (strict), [Guarantees] "after `probeExpiry`";
      // the model takes the second, like the open period ([Clock]) and a call `timeout`: expired
      // once now - start >= probeExpiry.
      // AMBIGUOUS: an expired probe is counted in the lifetime counters when (if ever) it settles,
      // as what it is then; only the circuit counts it as failed at once.
      const oldest = this.probeStarts[0];
      if (oldest !== undefined && this.now - oldest >= this.config.probeExpiry) {
        this.reach(
          this.probeSettled ? 'probe expired after another probe settled' : 'probe expired',
        );
        this.probeFailed();
      }
    }
  }

  /** Why the circuit refuses a call now, or undefined if it admits it. */
  private circuitRefusal(): 'open' | 'halfOpen' | 'forcedOpen' | undefined {
    switch (this.state) {
      case 'CLOSED':
      case 'DISABLED':
        // [DESIGN] "`DISABLED` (always passes, still counts)"
        return undefined;
      case 'OPEN':
        // [DESIGN] "`OPEN` (calls rejected at once with `CircuitOpenError`, which carries the
        // breaker name and when to retry)"
        return 'open';
      case 'FORCED_OPEN':
        return 'forcedOpen';
      case 'HALF_OPEN':
        // [Guarantees] "`HALF_OPEN` admits exactly `halfOpenMaxCalls` probes (default 1); every
        // other caller is rejected at once" ([Options] `halfOpenWaitTimeout` "`0` rejects them at
        // once", the default the spec keeps).
        return this.probeSlots < this.config.halfOpenMaxCalls ? undefined : 'halfOpen';
    }
  }

  private admit(call: ModelCall): void {
    // [Guarantees] "Each call remembers the generation of the state that admitted it."
    call.generation = this.generation;
    call.probe = this.state === 'HALF_OPEN';
    if (call.probe) {
      this.probeSlots++;
      this.probeStarts.push(this.now);
      if (this.probeStarts.length >= 2) this.reach('two probes in flight');
      if (call.sync) this.reach('executeSync probe');
    }
    if (this.state === 'DISABLED') this.reach('call through DISABLED');
    call.phase = 'running';
    call.startedAt = this.now;
    if (!call.sync) {
      call.fnRunning = true;
      if (this.config.timeout > 0) {
        // AMBIGUOUS: executeSync does not use `timeout` ("nothing can interrupt a synchronous
        // call", [Decorating]); only execute() arms the timer.
        call.timeoutDue = this.now + this.config.timeout;
        this.timers.push({ due: call.timeoutDue, seq: this.timerSeq++, call });
      }
    }
  }

  private finishSync(call: ModelCall, outcome: Outcome): void {
    this.record(call, outcome);
  }

  /** A refused call. [Errors] "`CircuitOpenError` | refused by the circuit; carries
   * `breakerName`, `state`, `retryAfter` (ms)"; "`BulkheadRejectedError` | refused by the
   * bulkhead". */
  private refuse(call: ModelCall, reason: 'open' | 'halfOpen' | 'forcedOpen' | 'bulkhead'): void {
    call.phase = 'done';
    // [Guarantees] "`calls = successes + failures + timeouts + ignored + rejections`, exactly, at
    // every moment"; [Calls] "A bulkhead rejection says nothing about the dependency and never
    // counts as a failure."
    this.counters.calls++;
    this.counters.rejections++;
    this.rejectionsByReason[reason]++;
    this.reach(`refused: ${reason}`);
    this.emit({ type: 'rejection', text: 'rejection' });
    // [Options] `fallback`: "a value or `(error, args) => value` answering refused, failed and
    // timed-out calls"; `fallbackOnFailure`: "`false` limits the fallback to refused calls".
    if (this.config.fallback !== 'none') {
      this.reach('fallback answered');
      this.counters.fallbacks++;
      call.result = 'fallback';
      return;
    }
    if (reason === 'bulkhead') {
      call.result = 'bulkhead';
      return;
    }
    call.result = `open:${this.state}:${this.retryAfter()}`;
  }

  /**
   * `retryAfter` of a CircuitOpenError. [Errors] "carries `breakerName`, `state`, `retryAfter`
   * (ms)"; [DESIGN] "which carries the breaker name and when to retry".
   */
  private retryAfter(): string {
    // In OPEN: the rest of the open period.
    if (this.state === 'OPEN') return String(this.openUntil - this.now);
    // AMBIGUOUS: the README gives no retryAfter for HALF_OPEN or FORCED_OPEN ("none for a circuit
    // held open with `isolate()`" is said of the HTTP Retry-After header). The model reads: a
    // HALF_OPEN refusal retries after 0 ms (probes are running now), FORCED_OPEN has none.
    if (this.state === 'HALF_OPEN') return '0';
    return 'none';
  }

  /** The breaker learns a call's outcome. */
  private record(call: ModelCall, outcome: Outcome | 'timeout'): void {
    call.phase = 'done';
    const duration = this.now - call.startedAt;
    this.counters.calls++;
    switch (outcome) {
      case 'success':
        this.counters.successes++;
        this.emit({ type: 'success', text: 'success' });
        call.result = `value:${call.id}`;
        break;
      case 'answered':
        // [Options] `isFailure`: "`false` counts the call as a success (the dependency answered)"
        // [Decorating] "errors that `isFailure` calls successes reach the caller unchanged"
        // AMBIGUOUS: such a call emits a `success` event.
        this.counters.successes++;
        this.emit({ type: 'success', text: 'success' });
        call.result = 'answered';
        break;
      case 'ignored':
        // [Options] `ignore`: "neither success nor failure; the error still reaches the caller"
        // [Decorating] "Errors the breaker ignores ... reach the caller unchanged" (no fallback).
        this.counters.ignored++;
        this.emit({ type: 'ignored', text: 'ignored' });
        call.result = 'ignored';
        break;
      case 'failure':
        this.counters.failures++;
        this.emit({ type: 'failure', text: 'failure' });
        call.result = this.failureAnswer('failure');
        break;
      case 'timeout':
        this.reach(
          call.probe && call.generation === this.generation ? 'probe timed out' : 'timeout',
        );
        this.counters.timeouts++;
        this.emit({ type: 'timeout', text: 'timeout' });
        call.result = this.failureAnswer('timeout');
        break;
    }
    if (this.tolerate.has('outcome-listener-first')) this.deliver();
    const failed = outcome === 'failure' || outcome === 'timeout';
    // [Trips] `'slow-call'`: "share of calls taking `slowCallDuration` or longer"
    // AMBIGUOUS: the duration is measured from the moment
    // the function was invoked to the moment the breaker learns the outcome; failed and timed-out
    // calls can be slow too; ignored calls are not calls of the window and are never slow;
    // `slowCalls` is compared only under the slow-call policy.
    const slow =
      outcome !== 'ignored' &&
      this.config.policy === 'slow-call' &&
      duration >= this.config.slowCallDuration;
    if (slow) this.counters.slowCalls++;

    // [Guarantees] "Late outcomes do not act on a newer state. Each call remembers the generation
    // of the state that admitted it. A failure that lands after the circuit opened neither
    // re-opens it nor stretches the open period; a success from before the trip does not close a
    // half-open circuit; failures from before a recovery do not re-open it."
    if (call.generation !== this.generation) {
      this.reach('late outcome');
      return;
    }
    // AMBIGUOUS: after dispose() ("releases the store") a call still running is counted in the
    // lifetime counters ([FAQ] "counted in `stats()`") but no longer feeds the circuit.
    if (this.disposed) return;
    if (this.state === 'HALF_OPEN' && call.probe) {
      // The probe no longer runs: its start time no longer counts for probeExpiry.
      const at = this.tolerate.has('expiry-oldest') ? 0 : this.probeStarts.indexOf(call.startedAt);
      this.probeStarts.splice(at, 1);
      this.probeSettled = true;
      if (outcome === 'ignored') {
        // [Guarantees] "(A probe whose error is ignored frees its slot: it said nothing about the
        // dependency.)"
        this.probeSlots--;
        this.reach('ignored probe freed its slot');
      } else if (failed) {
        // [Options] `halfOpenMaxCalls`: "all must succeed to close, one failure re-opens"
        // [Trips] "A timeout counts as a failure for every policy."
        this.probeFailed();
      } else {
        this.probeSuccesses++;
        if (this.probeSuccesses >= this.config.halfOpenMaxCalls) {
          if (this.config.halfOpenMaxCalls >= 2) this.reach('closed by 2+ successful probes');
          // AMBIGUOUS: closing on probes ends the backoff ([Options] `backoff` "grows the open
          // period after each failed probe": the count of failed probes restarts after a recovery).
          this.failedProbes = 0;
          this.transition('CLOSED');
        }
      }
      return;
    }
    if (this.state !== 'CLOSED' || outcome === 'ignored') return;
    if (this.policyTrips(failed, slow)) {
      this.reach(failed ? 'tripped on a failure' : 'tripped on a success');
      this.transition('OPEN');
    }
  }

  /** What the caller of a failed or timed-out call receives. */
  private failureAnswer(kind: 'failure' | 'timeout'): CallerResult {
    // [Options] `fallback`: "answering refused, failed and timed-out calls"; `fallbackOnFailure`
    // "`false` limits the fallback to refused calls: failures and timeouts reach the caller".
    if (this.config.fallback === 'all') {
      this.reach('fallback answered');
      this.counters.fallbacks++;
      return 'fallback';
    }
    return kind;
  }

  /** Records a non-ignored outcome in the CLOSED policy; true when the circuit must open. */
  private policyTrips(failed: boolean, slow: boolean): boolean {
    const c = this.config;
    if (c.policy === 'consecutive') {
      // [Trips] `'consecutive'` (default): "`failureThreshold` failures in a row"
      this.consecutiveFailures = failed ? this.consecutiveFailures + 1 : 0;
      return this.consecutiveFailures >= c.failureThreshold;
    }
    this.window.push({ at: this.now, failed, slow });
    if (c.policy !== 'time-window' && this.window.length > c.windowSize) this.window.shift();
    const entries = this.windowEntries();
    if (entries.length < this.window.length) this.reach('time window dropped an outcome');
    this.window = entries;
    if (this.tolerate.has('window-success') && c.policy !== 'slow-call' && !failed) return false;
    // [Configuring] "option "minimumCalls" must be an integer between 1 and windowSize (20), or the
    // circuit could never open": the rate counts once minimumCalls calls are in the window.
    // AMBIGUOUS: the rate is evaluated after every recorded call, a success included
    // (resilience4j's convention). [Trips] says when the circuit opens ("failure rate over the last
    // `windowSize` calls reaches `failureRateThreshold`"), not which outcome triggers the check;
    // a success can leave the rate at or over the threshold once minimumCalls is reached.
    if (entries.length < c.minimumCalls) return false;
    const n = entries.length;
    const failures = entries.filter((e) => e.failed).length;
    // [Guarantees] "a rate exactly at its threshold must trip ... rates are compared as quotients"
    // [Trips] "Rates are fractions: `0.5` means 50%."
    if (failures / n >= c.failureRateThreshold) return true;
    if (c.policy === 'slow-call') {
      // [Trips] "share of calls slower than `slowCallDuration` reaches `slowCallRateThreshold`, or
      // the failure rate reaches `failureRateThreshold`"
      const slowCalls = entries.filter((e) => e.slow).length;
      if (slowCalls / n >= c.slowCallRateThreshold) {
        this.reach('slow-call rate tripped');
        return true;
      }
    }
    return false;
  }

  private probeFailed(): void {
    this.failedProbes++;
    this.transition('OPEN');
  }

  /** The open period starting now. */
  private openDuration(): number {
    const { openDuration, backoff } = this.config;
    if (backoff === undefined) return openDuration;
    if (this.failedProbes > 0 && backoff.multiplier > 1) this.reach('backoff grew');
    // [Options] `backoff`: "`{ multiplier = 2, maxDuration = 300_000, jitter = 0.2 }` grows the
    // open period after each failed probe (jitter ±20%, capped)"
    // AMBIGUOUS: after k failed probes since the last close the period is
    // min(openDuration * multiplier^k, maxDuration) (the spec passes jitter: 0); a trip from CLOSED
    // (k = 0) opens for openDuration.
    return Math.min(openDuration * backoff.multiplier ** this.failedProbes, backoff.maxDuration);
  }

  /**
   * One transition. [Guarantees] "Every transition is one synchronous step: check and act with
   * nothing in between." Its events are queued and delivered after the step.
   */
  private transition(to: State): void {
    const from = this.state;
    this.state = to;
    // Every new state is a new generation ([FAQ] reset() "starts a fresh `CLOSED` generation").
    this.generation++;
    this.probeSlots = 0;
    this.probeSuccesses = 0;
    this.probeStarts = [];
    this.probeSettled = false;
    if (to === 'HALF_OPEN') this.reach('HALF_OPEN');
    if (to === 'CLOSED' && from === 'HALF_OPEN') this.reach('closed by probes');
    if (to === 'CLOSED') {
      // [Trips] "All ... start empty whenever the circuit closes."
      this.window = [];
      this.consecutiveFailures = 0;
    }
    this.emit({
      type: 'stateChange',
      text: `stateChange:${from}>${to}@${this.generation}`,
      to,
    });
    switch (to) {
      case 'OPEN': {
        const duration = this.openDuration();
        this.openUntil = this.now + duration;
        this.counters.opens++;
        // [Events] `breaker.onOpen(({ reason, openDuration }) => ...)`
        this.emit({ type: 'open', text: `open:${duration}` });
        break;
      }
      case 'CLOSED':
        this.emit({ type: 'close', text: 'close' });
        break;
      case 'HALF_OPEN':
        this.emit({ type: 'halfOpen', text: 'halfOpen' });
        break;
      case 'FORCED_OPEN':
        // AMBIGUOUS: isolate() emits stateChange only (no `open` event: FORCED_OPEN has no open
        // period) and does not count in `opens`.
        break;
      case 'DISABLED':
        break;
    }
  }

  private emit(event: QueuedEvent): void {
    // [FAQ] "Are events emitted in a disposed breaker? No: `dispose()` removes every listener."
    if (this.disposed) return;
    this.pending.push(event);
  }

  /**
   * [Events] "Events are delivered in the order things happened, even when a listener triggers
   * another event."
   * A listener that acts on the breaker (a reactor) runs after the step that emitted the event
   * ([Guarantees] "check and act with nothing in between"), and what it causes is delivered after
   * every event that step had already emitted.
   * AMBIGUOUS: the README does not say whether a call's own event (success, failure, ...) comes
   * before or after the transition it causes, so the model records the two kinds in two streams
   * and the spec compares each stream's order, not how they interleave.
   */
  private deliver(): void {
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let event = this.pending.shift(); event; event = this.pending.shift()) {
        this.deliverOne(event);
      }
    } finally {
      this.delivering = false;
    }
  }

  private deliverOne(event: QueuedEvent): void {
    if (this.disposed) return;
    if (['stateChange', 'open', 'close', 'halfOpen'].includes(event.type))
      this.logs.transitions.push(event.text);
    else this.logs.outcomes.push(event.text);
    this.config.reactors.forEach((reactor, i) => {
      if (!matches(reactor.on, event) || this.reactorsLeft[i]! <= 0 || this.disposed) return;
      this.reactorsLeft[i]!--;
      this.reach(
        this.pending.length > 0 ? 'listener acted while events were pending' : 'listener acted',
      );
      if (!this.tolerate.has('nested-events')) {
        // What the listener causes queues behind what was already emitted.
        this.act(reactor.action);
        return;
      }
      const rest = this.pending.splice(0);
      this.act(reactor.action);
      const caused = this.pending.splice(0);
      this.pending.push(...rest);
      for (const e of caused) this.deliverOne(e);
    });
  }

  /**
   * Hands free bulkhead slots to queued calls, oldest first.
   * [Calls] "A queued call whose circuit opened while it waited is rejected by the circuit, not
   * run."
   * AMBIGUOUS: a queued call leaving the queue is admitted like a new call at that moment (a lazy
   * transition may happen first; in HALF_OPEN it takes a probe slot or is refused).
   */
  private runQueue(): void {
    if (this.config.maxConcurrent <= 0) return;
    while (this.queue.length > 0 && this.inFlight() < this.config.maxConcurrent) {
      const call = this.queue.shift()!;
      if (this.disposed) {
        call.phase = 'done';
        call.result = 'disposed';
        continue;
      }
      this.touch();
      const refusal = this.circuitRefusal();
      if (refusal !== undefined) {
        this.reach('queued call refused by the circuit');
        this.refuse(call, refusal);
      } else {
        this.reach('queued call ran');
        this.admit(call);
      }
      this.deliver();
    }
  }
}

function matches(trigger: ReactorTrigger, event: QueuedEvent): boolean {
  if (trigger.startsWith('stateChange>'))
    return event.type === 'stateChange' && event.to === trigger.slice('stateChange>'.length);
  return event.type === trigger;
}
