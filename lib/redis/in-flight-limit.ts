/** Something waiting for a free slot: a command, or a circuit's batch of outcomes. */
export interface Waiter {
  /** Called with a slot free; must take it synchronously if it sends anything. */
  start(): void;
}

/** A command waiting for a slot, which the store can fail (it lost Redis, or closed). */
export interface CommandWaiter extends Waiter {
  fail(error: unknown): void;
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
