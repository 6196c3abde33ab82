import type { BreakerContext } from './breaker-context.js';
import type { Fallbacks } from './fallback.js';
import type { CallOptions } from './options.js';
import type { Outcomes } from './outcomes.js';
import { isThenable } from './thenable.js';

/**
 * The function a breaker protects. It receives an `AbortSignal` when the call can be aborted: the
 * breaker has a `timeout`, or the caller passed its own `signal`. Otherwise it receives `undefined`,
 * which `fetch` and most clients accept as "no signal".
 */
export type Protected<T> = (signal: AbortSignal | undefined) => T | PromiseLike<T>;

/**
 * Runs admitted calls under the breaker's `timeout`: each gets an `AbortSignal` that aborts when
 * the time runs out (with the `CallTimeoutError`) or when the caller's own signal does (with its
 * reason). Whichever comes first settles the call, once: a late outcome is not counted again.
 *
 * Package-internal: one per breaker, made in its constructor.
 */
export class TimedCalls {
  constructor(
    private readonly ctx: BreakerContext,
    private readonly outcomes: Outcomes,
    private readonly fallbacks: Fallbacks,
  ) {}

  /** Runs `fn`, admitted with `ticket`; its outcome, or the timeout, settles the returned promise. */
  run<T>(fn: Protected<T>, ticket: number, options: CallOptions<T> | undefined): Promise<T> {
    const { ctx, outcomes, fallbacks } = this;
    return new Promise<T>((resolve, reject) => {
      const controller = new AbortController();
      const external = options?.signal;
      const forward = (): void => controller.abort(external!.reason);
      if (external !== undefined) {
        if (external.aborted) forward();
        else external.addEventListener('abort', forward, { once: true });
      }
      const start = outcomes.begin();
      let settled = false;
      const finish = (): boolean => {
        if (settled) return false;
        settled = true;
        ctx.clock.clearTimeout(timer);
        external?.removeEventListener('abort', forward);
        return true;
      };
      const timer = ctx.clock.setTimeout(() => {
        if (!finish()) return;
        const error = outcomes.timeout(ticket);
        controller.abort(error);
        try {
          resolve(fallbacks.orThrow(error, options, ctx.options.fallbackOnFailure));
        } catch (thrown) {
          reject(thrown);
        }
      }, ctx.timeoutMs);
      const onValue = (value: T): void => {
        if (!finish()) return;
        outcomes.success(ticket, start);
        resolve(value);
      };
      const onError = (error: unknown): void => {
        if (!finish()) return;
        try {
          resolve(outcomes.afterError(error, ticket, start, options, false));
        } catch (thrown) {
          reject(thrown);
        }
      };
      let result: T | PromiseLike<T>;
      let thenable: boolean;
      try {
        result = fn(controller.signal);
        // Reading `then` can throw (a revoked Proxy, say): the call failed with that error, now.
        thenable = isThenable(result);
      } catch (error) {
        onError(error);
        return;
      }
      if (thenable) Promise.resolve(result).then(onValue, onError);
      else onValue(result as T);
    });
  }
}
