import { isCircuitConfigMismatchError } from './config-mismatch.error.js';
import type { Waiter } from './in-flight-limit.js';
import type { OutcomeBatch } from './outcome-batch.js';
import type {
  FleetReply,
  OutcomeCounts,
  ScriptCaller,
  ScriptRunner,
} from './script-runner.interface.js';

/**
 * The most steps of the record script in one call (see `OutcomeBatch.work`): more outcomes in one
 * tick are sent in several calls, so that no script holds Redis for long.
 */
const MAX_BATCH = 500;

/** @internal What the sender needs from its circuit. */
export interface OutcomeSenderHost {
  /** Whether the breaker is still bound (not disposed). */
  bound(): boolean;
  /** Whether decisions are the fleet's right now (outcomes go to Redis only then). */
  shared(): boolean;
  /** Redis has recorded a batch and answered with the fleet's state. */
  recorded(reply: FleetReply): void;
}

/**
 * @internal Sends a circuit's outcomes to Redis's record script: everything queued in one
 * event-loop turn goes in one call (a failure before the next tick), within the store's in-flight
 * limit, and every outcome is counted once in the store's {@link OutcomeCounts}: recorded, or
 * dropped with its reason.
 *
 * It also keeps the acknowledgements: the failures this instance has sent (or queued) and Redis has
 * not answered for yet. While there are any, a CLOSED fleet admits nothing new here (see
 * `RedisCircuit.tryAcquire`); callers wait in {@link waitForAcknowledgement}.
 */
export class OutcomeSender<C extends ScriptCaller> {
  private readonly counts: OutcomeCounts;
  /** Whether the batch waits for a free slot (see `maxInFlight`). */
  private awaitingSlot = false;
  private readonly batchTurn: Waiter = {
    start: () => {
      this.awaitingSlot = false;
      this.flush();
    },
  };
  private batchGeneration = -1;
  private flushPending = false;
  /** Failures on their way to Redis, whose verdict this instance has not heard yet. */
  private sentFailures = 0;
  /**
   * Counts the times `sentFailures` was written off (Redis lost): an answer, or a timeout, that
   * arrives afterwards for a batch sent before must not subtract its failures a second time.
   */
  private ackRound = 0;
  private ackWaiters: Array<() => void> = [];

  constructor(
    private readonly runner: ScriptRunner<C>,
    private readonly circuit: C,
    private readonly batch: OutcomeBatch,
    private readonly host: OutcomeSenderHost,
  ) {
    this.counts = runner.outcomes;
  }

  /** The fleet generation the queued outcomes were admitted in (-1: none, or not known yet). */
  get generation(): number {
    return this.batchGeneration;
  }

  /** Failures queued or sent that Redis has not answered for. */
  unacknowledged(): number {
    return this.batch.failures + this.sentFailures;
  }

  /** Resolves when Redis has answered for every failure (or they were written off). */
  waitForAcknowledgement(): Promise<void> {
    return new Promise<void>((resolve) => this.ackWaiters.push(resolve));
  }

  /** Answers from a Redis that is gone will never come: nobody waits for them. */
  writeOff(): void {
    this.sentFailures = 0;
    this.ackRound++;
    this.acknowledge(0);
  }

  /** Queues an outcome; everything queued in one event-loop turn goes to Redis in one script. */
  enqueue(generation: number, kind: 'S' | 'F', duration: number): void {
    if (this.batchGeneration !== generation) {
      this.drop('stale');
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

  /** Drops queued outcomes (their generation is over, or Redis is gone), counting them. */
  drop(reason: 'unavailable' | 'mismatch' | 'stale'): void {
    const n = this.batch.outcomes;
    if (n > 0) {
      this.counts.pending -= n;
      this.counts[reason] += n;
      this.batch.clear();
    }
    if (this.awaitingSlot) {
      this.awaitingSlot = false;
      this.runner.cancelBatch(this.batchTurn);
    }
    this.acknowledge(0);
  }

  private flush(): void {
    // Its turn comes when a slot is free (the store calls this again); it sends all there is then.
    if (this.awaitingSlot) return;
    const batch = this.batch;
    const bound = this.host.bound();
    if (!bound || !this.host.shared() || batch.outcomes === 0) {
      this.drop(bound ? 'unavailable' : 'stale');
      return;
    }
    if (!this.runner.slotForBatch(this.batchTurn)) {
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
    this.runner
      .run('record', this.circuit, [this.batchGeneration, this.runner.instanceId, outcomes])
      .then(
        (reply) => {
          counts.pending -= sent;
          counts.recorded += sent;
          this.host.recorded(reply);
        },
        (error: unknown) => {
          counts.pending -= sent;
          if (isCircuitConfigMismatchError(error)) counts.mismatch += sent;
          else counts.unavailable += sent;
        },
      )
      .finally(() => this.acknowledge(round === this.ackRound ? failures : 0));
  }

  /** Redis has answered for `failures` failures (or they were dropped): wake waiting callers. */
  private acknowledge(failures: number): void {
    this.sentFailures -= failures;
    if (this.unacknowledged() > 0 || this.ackWaiters.length === 0) return;
    const waiters = this.ackWaiters;
    this.ackWaiters = [];
    for (const wake of waiters) wake();
  }
}
