/** How a wait for a bulkhead slot ended. */
export type EnterResult = 'entered' | 'cancelled' | 'aborted';

interface Waiter {
  readonly resolve: (result: EnterResult) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: (() => void) | undefined;
}

/**
 * Limits how many calls run at once (`maxConcurrent`) and how many may wait for a slot
 * (`maxQueue`). Entering is synchronous when a slot is free, so a bulkhead with room costs no
 * extra tick. Waiters are served in arrival order; one whose caller's signal aborts leaves the
 * queue at once, and its place goes to the next.
 *
 * (Written here rather than on a semaphore package: none of the common ones lets one waiter leave
 * the queue, which a caller's `AbortSignal` needs.)
 */
export class Bulkhead {
  private free: number;
  /** Waiters in arrival order; `head` is the first one not yet served. */
  private waiters: Waiter[] = [];
  private head = 0;
  private waiting = 0;

  constructor(
    readonly maxConcurrent: number,
    readonly maxQueue: number,
  ) {
    this.free = maxConcurrent;
  }

  /** Calls holding a slot. */
  get running(): number {
    return this.maxConcurrent - this.free;
  }

  /** Calls waiting for a slot. */
  get queued(): number {
    return this.waiting;
  }

  /** Takes a slot if one is free right now (a free slot means nobody is waiting). */
  tryEnter(): boolean {
    if (this.free <= 0) return false;
    this.free--;
    return true;
  }

  /** Whether a call that found no free slot may wait for one. */
  canWait(): boolean {
    return this.waiting < this.maxQueue;
  }

  /**
   * Waits for a slot, in arrival order. Resolves `entered` with the slot taken, `aborted` if
   * `signal` aborted first (the waiter has left the queue), or `cancelled` if the bulkhead was
   * cancelled (the breaker was disposed).
   */
  enter(signal?: AbortSignal): Promise<EnterResult> {
    if (signal?.aborted) return Promise.resolve('aborted');
    return new Promise<EnterResult>((resolve) => {
      const onAbort =
        signal === undefined
          ? undefined
          : (): void => {
              if (this.remove(waiter)) resolve('aborted');
            };
      const waiter: Waiter = { resolve, signal, onAbort };
      this.waiters.push(waiter);
      this.waiting++;
      signal?.addEventListener('abort', onAbort!, { once: true });
    });
  }

  /** Gives a slot back: to the first waiter, if any. */
  leave(): void {
    const waiter = this.shift();
    if (waiter === undefined) {
      this.free++;
      return;
    }
    waiter.signal?.removeEventListener('abort', waiter.onAbort!);
    waiter.resolve('entered');
  }

  /** Turns away every waiting call (their `enter()` resolves `cancelled`). */
  cancel(): void {
    for (let w = this.shift(); w !== undefined; w = this.shift()) {
      w.signal?.removeEventListener('abort', w.onAbort!);
      w.resolve('cancelled');
    }
  }

  private shift(): Waiter | undefined {
    if (this.head === this.waiters.length) return undefined;
    const waiter = this.waiters[this.head]!;
    this.waiters[this.head++] = undefined as unknown as Waiter;
    this.waiting--;
    if (this.head === this.waiters.length) {
      this.waiters = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.waiters.length) {
      // A queue that never empties: drop the served prefix now and then (amortised O(1)).
      this.waiters = this.waiters.slice(this.head);
      this.head = 0;
    }
    return waiter;
  }

  private remove(waiter: Waiter): boolean {
    const index = this.waiters.indexOf(waiter, this.head);
    if (index < 0) return false;
    this.waiters.splice(index, 1);
    this.waiting--;
    if (this.head === this.waiters.length) {
      this.waiters = [];
      this.head = 0;
    }
    return true;
  }
}
