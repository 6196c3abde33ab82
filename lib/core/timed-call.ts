import type { BreakerContext } from './breaker-context.js';
import { answerOrFail } from './fallback.js';
import type { CallOptions } from './options.js';
import { afterError, beginCall, settleSuccess, settleTimeout } from './outcomes.js';
import { isThenable } from './thenable.js';

/**
 * The function a breaker protects. It receives an `AbortSignal` when the call can be aborted: the
 * breaker has a `timeout`, or the caller passed its own `signal`. Otherwise it receives `undefined`,
 * which `fetch` and most clients accept as "no signal".
 */
export type Protected<T> = (signal: AbortSignal | undefined) => T | PromiseLike<T>;

/**
 * Runs `fn`, admitted with `ticket`, under the breaker's `timeout`: it gets an `AbortSignal` that
 * aborts when the time runs out (with the `CallTimeoutError`) or when the caller's own signal does
 * (with its reason). Whichever comes first settles the returned promise, once: a late outcome is
 * not counted again.
 *
 * Package-internal: a function on a breaker's context.
 */
export function runTimed<T>(
  core: BreakerContext,
  fn: Protected<T>,
  ticket: number,
  options: CallOptions<T> | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const controller = new AbortController();
    const external = options?.signal;
    const forward = (): void => controller.abort(external!.reason);
    if (external !== undefined) {
      if (external.aborted) forward();
      else external.addEventListener('abort', forward, { once: true });
    }
    const start = beginCall(core);
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      core.clock.clearTimeout(timer);
      external?.removeEventListener('abort', forward);
      return true;
    };
    const timer = core.clock.setTimeout(() => {
      if (!finish()) return;
      const error = settleTimeout(core, ticket);
      controller.abort(error);
      try {
        resolve(answerOrFail(core, error, options, core.options.fallbackOnFailure, false));
      } catch (thrown) {
        reject(thrown);
      }
    }, core.timeoutMs);
    const onValue = (value: T): void => {
      if (!finish()) return;
      settleSuccess(core, ticket, start);
      resolve(value);
    };
    const onError = (error: unknown): void => {
      if (!finish()) return;
      try {
        resolve(afterError(core, error, ticket, start, options, false));
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
