import { from, isObservable, Observable, of, type Subscription, throwError } from 'rxjs';
import {
  type Breaker,
  type CallPermit,
  isBulkheadRejectedError,
  isCircuitOpenError,
  type TimerHandle,
} from './core/internal.js';

/** What a guarded method returns. */
export type ReturnShape = 'promise' | 'observable' | 'sync';

/** Answers an error instead of throwing it. Already bound to the call's `this` and arguments. */
export type BoundFallback = (error: unknown) => unknown;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * The shape a method's declared return type promises (`design:returntype`, emitted by TypeScript
 * with `emitDecoratorMetadata`), or `undefined` when it says nothing reliable (`Object` for
 * interfaces and unions, `undefined` for `void` and unannotated methods).
 */
export function shapeOfReturnType(type: unknown): ReturnShape | undefined {
  if (typeof type !== 'function' || type === Object) return undefined;
  if (type === Promise) return 'promise';
  if (type === Observable) return 'observable';
  const prototype = (type as { prototype?: unknown }).prototype;
  if (prototype === null || typeof prototype !== 'object') return undefined;
  if (
    prototype instanceof Promise ||
    typeof (prototype as { then?: unknown }).then === 'function'
  ) {
    return 'promise';
  }
  if (
    prototype instanceof Observable ||
    (typeof (prototype as { subscribe?: unknown }).subscribe === 'function' &&
      typeof (prototype as { pipe?: unknown }).pipe === 'function')
  ) {
    return 'observable';
  }
  return 'sync';
}

/** Whether the breaker would hand this rejection to a fallback (it does for refused calls). */
function isRefusal(error: unknown): boolean {
  return isCircuitOpenError(error) || isBulkheadRejectedError(error);
}

/**
 * The fallback for a call: the method's own, else the breaker's `fallback` option. Calling it counts
 * the answer in the breaker's `stats().fallbacks`, as `execute` does for its own fallbacks.
 */
function effectiveFallback(
  breaker: Breaker,
  fallback: BoundFallback | undefined,
  args: readonly unknown[],
): BoundFallback | undefined {
  let answer: BoundFallback;
  if (fallback !== undefined) {
    answer = fallback;
  } else {
    const options = breaker.options;
    if (!options.hasFallback) return undefined;
    const value = options.fallback;
    answer =
      typeof value === 'function'
        ? (error) => (value as (e: unknown, a: readonly unknown[]) => unknown)(error, args)
        : () => value;
  }
  return (error) => {
    breaker.countFallback();
    return answer(error);
  };
}

function toObservable(value: unknown): Observable<unknown> {
  if (isObservable(value)) return value;
  if (isThenable(value)) return from(value as PromiseLike<unknown>);
  return of(value);
}

/** The fallback's answer to a failure or a timeout of an admitted call, if one applies. */
function fallbackForFailure(
  breaker: Breaker,
  outcome: string | undefined,
  fallback: BoundFallback | undefined,
  args: readonly unknown[],
): BoundFallback | undefined {
  return outcome === 'failure' && breaker.options.fallbackOnFailure
    ? effectiveFallback(breaker, fallback, args)
    : undefined;
}

/**
 * Guards every subscription to `source` with its own permit: an error is a failure, the first
 * value or completion a success, an unsubscription before either is neither (the permit is
 * released). With a `timeout`, a subscription that has seen no value, error or completion when it
 * runs out is torn down (unsubscribed from `source`, which cancels the work of an HTTP Observable)
 * and counted once as a timeout; the subscriber receives a `CallTimeoutError`, or the fallback. A
 * refused subscription errors with the breaker's error, or switches to the fallback.
 */
export function guardObservable<T>(
  breaker: Breaker,
  source: Observable<T>,
  fallback?: BoundFallback,
  args: readonly unknown[] = [],
): Observable<T> {
  return new Observable<T>((subscriber) => {
    let permit: CallPermit;
    try {
      permit = breaker.acquire();
    } catch (error) {
      const answer = isRefusal(error) ? effectiveFallback(breaker, fallback, args) : undefined;
      if (answer === undefined) {
        subscriber.error(error);
        return undefined;
      }
      return toObservable(answer(error)).subscribe(subscriber as never);
    }
    let fallbackSubscription: Subscription | undefined;
    const answerWith = (answer: BoundFallback | undefined, error: unknown): void => {
      if (answer === undefined) {
        subscriber.error(error);
        return;
      }
      try {
        fallbackSubscription = toObservable(answer(error)).subscribe(subscriber as never);
      } catch (thrown) {
        subscriber.error(thrown);
      }
    };
    const { clock, timeout } = breaker.options;
    let timer: TimerHandle;
    let timing = false;
    const stopTimer = (): void => {
      if (!timing) return;
      timing = false;
      clock.clearTimeout(timer);
    };
    const subscription = source.subscribe({
      next: (value) => {
        stopTimer();
        permit.success();
        subscriber.next(value);
      },
      error: (error: unknown) => {
        stopTimer();
        answerWith(fallbackForFailure(breaker, permit.failure(error), fallback, args), error);
      },
      complete: () => {
        stopTimer();
        permit.success();
        subscriber.complete();
      },
    });
    // Timed from the subscription; a source that answered synchronously needs no timer.
    if (timeout > 0 && !permit.settled) {
      timing = true;
      timer = clock.setTimeout(() => {
        timing = false;
        const error = permit.timeout();
        if (error === undefined) return;
        subscription.unsubscribe();
        answerWith(fallbackForFailure(breaker, 'failure', fallback, args), error);
      }, timeout);
    }
    return () => {
      stopTimer();
      permit.release();
      subscription.unsubscribe();
      fallbackSubscription?.unsubscribe();
    };
  });
}

/** One call of a decorated method. */
export interface GuardedCall {
  readonly breaker: Breaker;
  /** Calls the original method with the call's `this` and arguments. */
  readonly run: () => unknown;
  readonly args: readonly unknown[];
  readonly fallback: BoundFallback | undefined;
}

/** Calls a method that returns a promise: through `execute`, so `timeout` applies. */
export function invokePromise(call: GuardedCall): Promise<unknown> {
  const { fallback } = call;
  return call.breaker.execute(
    () => call.run(),
    fallback === undefined
      ? { args: call.args }
      : { args: call.args, fallback: (e) => fallback(e) },
  );
}

/** Calls a synchronous method: a refused call throws (or answers with the fallback) at once. */
export function invokeSync(call: GuardedCall): unknown {
  const { fallback } = call;
  return call.breaker.executeSync(
    () => call.run(),
    fallback === undefined
      ? { args: call.args }
      : { args: call.args, fallback: (e) => fallback(e) },
  );
}

/**
 * Calls a method that returns an Observable. The method runs now, as it would undecorated; the
 * breaker guards each subscription (the work of a cold Observable). A method that throws before
 * returning its Observable returns one that errors with that error instead, guarded the same way:
 * each subscription counts it as a failure (or is refused while the circuit is open).
 */
export function invokeObservable(call: GuardedCall): Observable<unknown> {
  let source: unknown;
  try {
    source = call.run();
  } catch (error) {
    return guardObservable(
      call.breaker,
      throwError(() => error),
      call.fallback,
      call.args,
    );
  }
  if (!isObservable(source)) {
    throw new TypeError(
      `Circuit breaker "${call.breaker.name}": the method is declared to return an Observable but returned ${
        source === null ? 'null' : typeof source
      }`,
    );
  }
  return guardObservable(call.breaker, source, call.fallback, call.args);
}

/**
 * Calls a method whose shape is not known in advance under a permit, then looks at what it
 * returned: a thenable is tracked (and a promise returned), an Observable is guarded per
 * subscription (the permit taken for the call itself is released, so it counts as ignored), any
 * other value settles the call as a success at once. `onShape` learns the shape for next time.
 * A refused call throws synchronously (or returns a rejected promise if `refusedShape` is
 * `'promise'`), unless a fallback answers.
 */
export function invokeUnknown(
  call: GuardedCall,
  refusedShape: ReturnShape | undefined,
  onShape: (shape: ReturnShape) => void,
): unknown {
  const { breaker } = call;
  let permit: CallPermit;
  try {
    permit = breaker.acquire();
  } catch (error) {
    const answer = isRefusal(error)
      ? effectiveFallback(breaker, call.fallback, call.args)
      : undefined;
    if (refusedShape === 'promise') {
      return answer === undefined
        ? Promise.reject(error)
        : Promise.resolve().then(() => answer(error));
    }
    if (answer === undefined) throw error;
    return answer(error);
  }
  const afterError = (error: unknown): unknown => {
    const answer = fallbackForFailure(breaker, permit.failure(error), call.fallback, call.args);
    if (answer === undefined) throw error;
    return answer(error);
  };
  let result: unknown;
  try {
    result = call.run();
  } catch (error) {
    return afterError(error);
  }
  if (isThenable(result)) {
    onShape('promise');
    if (breaker.options.timeout > 0) return settleWithTimeout(call, permit, result, afterError);
    return Promise.resolve(result).then((value) => {
      permit.success();
      return value;
    }, afterError);
  }
  if (isObservable(result)) {
    onShape('observable');
    permit.release();
    return guardObservable(breaker, result, call.fallback, call.args);
  }
  onShape('sync');
  permit.success();
  return result;
}

/**
 * Settles a permit's call from its promise, or as a timeout (counted once, answered by the fallback
 * or a `CallTimeoutError`) if `timeout` runs out first; a late outcome is then not counted again.
 */
function settleWithTimeout(
  call: GuardedCall,
  permit: CallPermit,
  result: PromiseLike<unknown>,
  afterError: (error: unknown) => unknown,
): Promise<unknown> {
  const { breaker } = call;
  const { clock, timeout } = breaker.options;
  return new Promise((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      const error = permit.timeout();
      if (error === undefined) return;
      const answer = fallbackForFailure(breaker, 'failure', call.fallback, call.args);
      if (answer === undefined) {
        reject(error);
        return;
      }
      try {
        resolve(answer(error));
      } catch (thrown) {
        reject(thrown);
      }
    }, timeout);
    Promise.resolve(result).then(
      (value) => {
        clock.clearTimeout(timer);
        if (permit.settled) return;
        permit.success();
        resolve(value);
      },
      (error: unknown) => {
        clock.clearTimeout(timer);
        if (permit.settled) return;
        try {
          resolve(afterError(error));
        } catch (thrown) {
          reject(thrown);
        }
      },
    );
  });
}
