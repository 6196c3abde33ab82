import { CircuitState } from './circuit-state.js';
import type { Clock } from './clock.js';

/** Why a caller waiting for a half-open verdict was woken. */
export type WakeReason = 'verdict' | 'slot' | 'timeout' | 'aborted';

interface VerdictWaiter {
  resolve(reason: WakeReason): void;
  timer: unknown;
}

/**
 * Callers waiting (bounded by `halfOpenWaitTimeout`) for something that may change a half-open
 * refusal: a verdict (the circuit closed or opened), a probe slot coming free, their own signal
 * aborting, or time running out. Made before the circuit, which wakes them.
 *
 * Package-internal: one per breaker, made in its constructor.
 */
export class VerdictWaiters {
  private waiters: Set<VerdictWaiter> | undefined = undefined;

  constructor(private readonly clock: Clock) {}

  /** Waits up to `ms`; resolves with what woke the caller. */
  wait(ms: number, signal: AbortSignal | undefined): Promise<WakeReason> {
    return new Promise<WakeReason>((resolve) => {
      const waiters = (this.waiters ??= new Set());
      const onAbort = (): void => waiter.resolve('aborted');
      const waiter: VerdictWaiter = {
        resolve: (reason) => {
          if (!waiters.delete(waiter)) return;
          this.clock.clearTimeout(waiter.timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(reason);
        },
        timer: undefined,
      };
      waiters.add(waiter);
      waiter.timer = this.clock.setTimeout(() => waiter.resolve('timeout'), Math.max(0, ms));
      if (signal !== undefined) {
        if (signal.aborted) waiter.resolve('aborted');
        else signal.addEventListener('abort', onAbort, { once: true });
      }
    });
  }

  /** Wakes every waiter with `reason`. */
  wakeAll(reason: WakeReason): void {
    const waiters = this.waiters;
    if (waiters === undefined || waiters.size === 0) return;
    for (const waiter of [...waiters]) waiter.resolve(reason);
  }

  /** A half-open probe slot came free: the longest waiter may take it. */
  wakeOne(): void {
    const waiters = this.waiters;
    if (waiters === undefined || waiters.size === 0) return;
    waiters.values().next().value!.resolve('slot');
  }

  /** The circuit moved to `to`: anything but `HALF_OPEN` is a verdict for those waiting. */
  transitioned(to: CircuitState): void {
    if (this.waiters !== undefined && this.waiters.size > 0) {
      if (to !== CircuitState.HalfOpen) this.wakeAll('verdict');
    }
  }
}
