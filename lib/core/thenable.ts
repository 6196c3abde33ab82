/**
 * Whether `value` is a thenable (a promise, or anything with a `then` method), as `await` and
 * `Promise.resolve` decide it. Reading `then` can throw (a revoked Proxy, say): callers that run
 * untrusted results treat that throw as the call's failure.
 *
 * Package-internal: the engine and the Nest invoker share it, so both see the same results as
 * asynchronous.
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * A thenable that rejects with `error`. A promise resolved with it (`Promise.resolve`, or a `then`
 * callback returning it) rejects a tick later without a `throw` and without being rejected while
 * nobody listens: in Node each throw builds a message with a source location, and each promise
 * rejected before it has a handler goes through the unhandled-rejection tracker, and either costs
 * more than everything else a failed or refused call does. An unhandled rejection is still reported.
 */
export function rejectionWith(error: unknown): PromiseLike<never> {
  const thenable = { then: (_: unknown, reject: (reason: unknown) => void) => reject(error) };
  return thenable as unknown as PromiseLike<never>;
}
