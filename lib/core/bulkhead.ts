import { E_CANCELED, Semaphore } from 'async-mutex';

/**
 * Limits how many calls run at once (`maxConcurrent`) and how many may wait for a slot
 * (`maxQueue`), on an async-mutex semaphore. Entering is synchronous when a slot is free, so a
 * bulkhead with room costs no extra tick.
 */
export class Bulkhead {
  private readonly semaphore: Semaphore;
  private waiting = 0;

  constructor(
    readonly maxConcurrent: number,
    readonly maxQueue: number,
  ) {
    this.semaphore = new Semaphore(maxConcurrent);
  }

  /** Calls holding a slot. */
  get running(): number {
    return this.maxConcurrent - this.semaphore.getValue();
  }

  /** Calls waiting for a slot. */
  get queued(): number {
    return this.waiting;
  }

  /** Takes a slot if one is free right now. */
  tryEnter(): boolean {
    const free = this.semaphore.getValue();
    if (free <= 0) return false;
    this.semaphore.setValue(free - 1);
    return true;
  }

  /** Whether a call that found no free slot may wait for one. */
  canWait(): boolean {
    return this.waiting < this.maxQueue;
  }

  /**
   * Waits for a slot, in arrival order. Resolves `true` with the slot taken, or `false` if the
   * bulkhead was cancelled (the breaker was disposed) first.
   */
  async enter(): Promise<boolean> {
    this.waiting++;
    try {
      await this.semaphore.acquire();
      return true;
    } catch (error) {
      if (error === E_CANCELED) return false;
      throw error;
    } finally {
      this.waiting--;
    }
  }

  /** Gives a slot back. */
  leave(): void {
    this.semaphore.release();
  }

  /** Turns away every waiting call (their `enter()` resolves `false`). */
  cancel(): void {
    this.semaphore.cancel();
  }
}
