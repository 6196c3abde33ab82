import { CircuitState } from './circuit-state.js';
import type { Clock } from './clock.js';

/** Why a caller waiting for a half-open verdict was woken. */
export type WakeReason = 'verdict' | 'slot' | 'timeout' | 'aborted';

/** One caller waiting for a verdict. */
export interface VerdictWaiter {
  resolve(reason: WakeReason): void;
  timer: unknown;
}

/** What holds a breaker's waiters (its `BreakerContext`): the set is made on the first wait. */
export interface WaiterHost {
  readonly clock: Clock;
  waiters: Set<VerdictWaiter> | undefined;
}

/*
 * Callers waiting (bounded by `halfOpenWaitTimeout`) for something that may change a half-open
 * refusal: a verdict (the circuit closed or opened), a probe slot coming free, their own signal
 * aborting, or time running out. The circuit wakes them through the breaker's context.
 *
 * Package-internal: functions on the breaker's context, which holds the set.
 */

/** Waits up to `ms`; resolves with what woke the caller. */
export function waitForVerdict(
  host: WaiterHost,
  ms: number,
  signal: AbortSignal | undefined,
): Promise<WakeReason> {
  return new Promise<WakeReason>((resolve) => {
    const waiters = (host.waiters ??= new Set());
    const clock = host.clock;
    const onAbort = (): void => waiter.resolve('aborted');
    const waiter: VerdictWaiter = {
      resolve: (reason) => {
        if (!waiters.delete(waiter)) return;
        clock.clearTimeout(waiter.timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(reason);
      },
      timer: undefined,
    };
    waiters.add(waiter);
    waiter.timer = clock.setTimeout(() => waiter.resolve('timeout'), Math.max(0, ms));
    if (signal !== undefined) {
      if (signal.aborted) waiter.resolve('aborted');
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  });
}

/** Wakes every waiter with `reason`. */
export function wakeAll(host: WaiterHost, reason: WakeReason): void {
  const waiters = host.waiters;
  if (waiters === undefined || waiters.size === 0) return;
  for (const waiter of [...waiters]) waiter.resolve(reason);
}

/** A half-open probe slot came free: the longest waiter may take it. */
export function wakeOne(host: WaiterHost): void {
  const waiters = host.waiters;
  if (waiters === undefined || waiters.size === 0) return;
  waiters.values().next().value!.resolve('slot');
}

/** The circuit moved to `to`: anything but `HALF_OPEN` is a verdict for those waiting. */
export function wakeOnTransition(host: WaiterHost, to: CircuitState): void {
  const waiters = host.waiters;
  if (waiters !== undefined && waiters.size > 0 && to !== CircuitState.HalfOpen) {
    wakeAll(host, 'verdict');
  }
}
