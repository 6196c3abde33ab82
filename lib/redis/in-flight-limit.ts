/** Something waiting for a free slot: a command, or a circuit's batch of outcomes. */
export interface Waiter {
  /** Called with a slot free; must take it synchronously if it sends anything. */
  start(): void;
}

/** A command waiting for a slot, which the store can fail (it lost Redis, or closed). */
export interface CommandWaiter extends Waiter {
  fail(error: unknown): void;
}

/** A command in its slot: whether its caller gave up, and a way to say Redis answered. */
export interface Call {
  abandoned(): boolean;
  answered(): void;
}

/** What the store does when a command in a slot fails, and once a command has been answered. */
export interface SlotHooks {
  /** The command timed out (`error` says after how long), or failed. */
  failed(error: unknown): void;
  /** The command's slot is given back, and Redis answered it (perhaps after its timeout). */
  answered(): void;
}

/**
 * Caps the commands a store has sent to Redis and not had answered. A slot is taken when a command
 * is written and given back when its answer arrives or its connection closes, not when the caller
 * stops waiting: a command that timed out is still in Redis's input buffer, and what a Redis that
 * stopped reading has to work through when it runs again is exactly what is in flight.
 *
 * Free slots go to waiting commands first (probe leases, probe outcomes, state reads, manual
 * transitions: rare, and a caller may be waiting), then to circuits whose outcomes wait, in the
 * order they started waiting. A circuit waits once, however many outcomes it gathers meanwhile,
 * and sends them all in one call when its turn comes.
 * @internal
 */
export class InFlightLimit {
  /** Commands in flight now. */
  inFlight = 0;
  /** The most commands in flight at once so far. */
  peak = 0;
  private readonly commands: CommandWaiter[] = [];
  private readonly batches = new Set<Waiter>();

  constructor(readonly max: number) {}

  /** Commands waiting for a slot (batches of outcomes not included). */
  get waiting(): number {
    return this.commands.length;
  }

  /** Whether a slot is free now (and nothing waits for one). */
  get free(): boolean {
    return this.inFlight < this.max;
  }

  take(): void {
    this.inFlight++;
    if (this.inFlight > this.peak) this.peak = this.inFlight;
  }

  release(): void {
    this.inFlight--;
    this.pump();
  }

  /**
   * Runs `work` (commands on the command connection) in one slot, taken when a slot is free and
   * given back when `work` settles (when Redis has answered, or the connection closed), and
   * settles within `timeout` ms of this call: a timeout or an error is reported to
   * `hooks.failed`.
   */
  run<T>(work: (call: Call) => Promise<T>, timeout: number, hooks: SlotHooks): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let leaveQueue: (() => void) | undefined;
      const finish = (ok: boolean, value: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        leaveQueue?.();
        if (ok) resolve(value as T);
        else reject(value);
      };
      const timer = setTimeout(() => {
        const error = new Error(
          `Redis command timed out (no answer within commandTimeout, ${timeout} ms)`,
        );
        finish(false, error);
        hooks.failed(error);
      }, timeout);
      let answered = false;
      const call: Call = {
        abandoned: () => settled,
        answered: () => (answered = true),
      };
      const start = () => {
        leaveQueue = undefined;
        this.take();
        work(call)
          .then(
            (value) => finish(true, value),
            (error: unknown) => {
              if (settled) return;
              finish(false, error);
              hooks.failed(error);
            },
          )
          .finally(() => {
            this.release();
            if (answered) hooks.answered();
          });
      };
      if (this.free) start();
      else leaveQueue = this.waitCommand({ start, fail: (error) => finish(false, error) });
    });
  }

  /** Queues a command; returns a function that takes it out of the queue (a no-op once started). */
  waitCommand(waiter: CommandWaiter): () => void {
    this.commands.push(waiter);
    return () => {
      const i = this.commands.indexOf(waiter);
      if (i >= 0) this.commands.splice(i, 1);
    };
  }

  /** Queues a circuit's batch of outcomes (once: a batch already waiting keeps its place). */
  waitBatch(waiter: Waiter): void {
    this.batches.add(waiter);
  }

  /** Forgets a waiting batch (its circuit was disposed, or dropped its outcomes). */
  cancelBatch(waiter: Waiter): void {
    this.batches.delete(waiter);
  }

  /** Empties both queues; returns the commands that were waiting, so the store can fail them. */
  clear(): CommandWaiter[] {
    this.batches.clear();
    return this.commands.splice(0);
  }

  private pump(): void {
    while (this.inFlight < this.max) {
      const command = this.commands.shift();
      if (command !== undefined) {
        command.start();
        continue;
      }
      const batch = this.batches.values().next();
      if (batch.done === true) return;
      this.batches.delete(batch.value);
      batch.value.start();
    }
  }
}
