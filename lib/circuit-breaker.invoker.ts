import { from, isObservable, Observable, of, type Subscription, throwError } from 'rxjs';
import {
  type Breaker,
  type CallOptions,
  type CallPermit,
  isThenable,
  type TimerHandle,
} from './core/internal.js';

/** What a guarded method returns. */
export type ReturnShape = 'promise' | 'observable' | 'sync';

/** How a call ended, for `Breaker.fallback` (the engine's `FallbackCause`). */
type FallbackCause = Parameters<Breaker['fallback']>[1];

/** Answers an error instead of throwing it. Already bound to the call's `this` and arguments. */
export type BoundFallback = (error: unknown) => unknown;

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

/**
 * The call options that give a call its fallback (the method's own, else the breaker's `fallback`
 * option, called with `args`): what `execute` is given, and what `Breaker.fallback` answers by for
 * calls run under a permit. Made only when an error needs an answer.
 */
function callOptions(
  fallback: BoundFallback | undefined,
  args: readonly unknown[],
): CallOptions<unknown> {
  return fallback === undefined ? { args } : { args, fallback: (e: unknown) => fallback(e) };
}

function toObservable(value: unknown): Observable<unknown> {
  if (isObservable(value)) return value;
  if (isThenable(value)) return from(value as PromiseLike<unknown>);
  return of(value);
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
      let answer: unknown;
      try {
        answer = breaker.fallback(error, 'refused', callOptions(fallback, args));
      } catch (thrown) {
        subscriber.error(thrown);
        return undefined;
      }
      return toObservable(answer).subscribe(subscriber as never);
    }
    let fallbackSubscription: Subscription | undefined;
    /** Answers `error` with the fallback, if one applies to `cause`, or errors with it. */
    const answerWith = (error: unknown, cause: FallbackCause): void => {
      try {
        const answer = breaker.fallback(error, cause, callOptions(fallback, args));
        fallbackSubscription = toObservable(answer).subscribe(subscriber as never);
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
        answerWith(error, permit.failure(error));
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
        answerWith(error, 'timeout');
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
  return call.breaker.execute(() => call.run(), callOptions(call.fallback, call.args));
}

/** Calls a synchronous method: a refused call throws (or answers with the fallback) at once. */
export function invokeSync(call: GuardedCall): unknown {
  return call.breaker.executeSync(() => call.run(), callOptions(call.fallback, call.args));
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
    const options = callOptions(call.fallback, call.args);
    if (refusedShape !== 'promise') return breaker.fallback(error, 'refused', options);
    try {
      return Promise.resolve(breaker.fallback(error, 'refused', options));
    } catch (thrown) {
      return Promise.reject(thrown);
    }
  }
  const afterError = (error: unknown): unknown =>
    breaker.fallback(error, permit.failure(error), callOptions(call.fallback, call.args));
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
      try {
        resolve(breaker.fallback(error, 'timeout', callOptions(call.fallback, call.args)));
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
