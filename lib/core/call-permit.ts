import type { BreakerContext } from './breaker-context.js';
import type { CallTimeoutError } from './errors.js';
import { settleError, settleSuccess, settleTimeout } from './outcomes.js';
import type { Outcome } from './stats.js';

/**
 * A permit for one call made outside `execute` (see `Breaker.acquire`). Report the outcome exactly
 * once with `success`, `failure`, `timeout` or `release`; anything after the first report is
 * ignored. `Breaker.fallback` answers a refused, failed or timed-out call the way `execute` would.
 */
export class CallPermit {
  private done = false;

  /** @internal Made by `Breaker.acquire()`, which has admitted the call and started it. */
  constructor(
    private readonly core: BreakerContext,
    private readonly ticket: number,
    private readonly start: number,
  ) {}

  /** Whether an outcome has been reported. */
  get settled(): boolean {
    return this.done;
  }

  /** The call succeeded. */
  success(): void {
    if (!this.settle()) return;
    settleSuccess(this.core, this.ticket, this.start);
  }

  /**
   * The call failed with `error`, classified like any call (`ignore`, `isFailure`). Returns how it
   * was counted, or `undefined` if the permit had already been settled.
   */
  failure(error: unknown): Outcome | undefined {
    if (!this.settle()) return undefined;
    return settleError(this.core, error, this.ticket, this.start, false);
  }

  /**
   * The call ran past the breaker's `timeout` (whoever timed it): counted once as a timeout, a
   * failure for the trip policy. Returns the `CallTimeoutError` to give the caller (abort or
   * unsubscribe the work yourself), or `undefined` if the permit had already been settled.
   */
  timeout(): CallTimeoutError | undefined {
    if (!this.settle()) return undefined;
    return settleTimeout(this.core, this.ticket);
  }

  /** The call ended with no verdict (cancelled, unsubscribed): counted as ignored, frees its probe slot. */
  release(): void {
    if (!this.settle()) return;
    settleError(this.core, undefined, this.ticket, this.start, true);
  }

  /** Marks the permit settled; `false` if it already was. */
  private settle(): boolean {
    if (this.done) return false;
    this.done = true;
    return true;
  }
}
