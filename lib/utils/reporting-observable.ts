import {
  Observable,
  type Observer,
  type OperatorFunction,
  type Subscriber,
  type Subscription,
} from 'rxjs';

type Callback = ((value?: unknown) => void) | null | undefined;

/** What rxjs itself treats as a subscriber (an operator's, or one rxjs built): passed through. */
function isSubscriber(value: unknown): value is Subscriber<unknown> {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return ['next', 'error', 'complete', 'unsubscribe', 'add', 'remove'].every(
    (key) => typeof v[key] === 'function',
  );
}

/**
 * An Observable whose subscribers' exceptions are handed to `report`, instead of rxjs's default of
 * rethrowing them later on a timer: an uncaught exception, which ends a Node process. The
 * subscriber that threw stays subscribed, and the others are not affected. `pipe(...)` returns a
 * `ReportingObservable` too (wrapping what the operators built), so a subscriber at the end of a
 * pipe is covered. Public rxjs API only: `subscribe` and `pipe` are overridden, `lift`, `source`
 * and `operator` are left alone.
 * @internal
 */
export class ReportingObservable<T> extends Observable<T> {
  constructor(
    subscribe: (subscriber: Subscriber<T>) => (() => void) | Subscription | undefined,
    private readonly report: (error: unknown) => void,
  ) {
    super(subscribe);
  }

  // The signature of rxjs's own implementation, which its overloads narrow for callers.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override pipe(...operations: OperatorFunction<any, any>[]): Observable<any> {
    // What `Observable.prototype.pipe` does: each operation applied to the result of the last.
    const piped = operations.reduce<Observable<unknown>>(
      (source, operation) => operation(source),
      this,
    );
    if (piped === this) return this;
    return new ReportingObservable<unknown>(
      (subscriber) => piped.subscribe(subscriber),
      this.report,
    );
  }

  override subscribe(
    observerOrNext?: Partial<Observer<T>> | ((value: T) => void) | null,
    error?: ((error: unknown) => void) | null,
    complete?: (() => void) | null,
  ): Subscription {
    if (isSubscriber(observerOrNext)) return super.subscribe(observerOrNext);
    const observer: Partial<Observer<T>> =
      typeof observerOrNext === 'function' || observerOrNext == null
        ? {
            next: observerOrNext ?? undefined,
            error: error ?? undefined,
            complete: complete ?? undefined,
          }
        : observerOrNext;
    const guard = (callback: Callback): Callback =>
      typeof callback === 'function'
        ? (value) => {
            try {
              callback.call(observer, value);
            } catch (thrown) {
              this.report(thrown);
            }
          }
        : undefined;
    return super.subscribe({
      next: guard(observer.next as Callback),
      error: guard(observer.error as Callback),
      complete: guard(observer.complete as Callback),
    } as Partial<Observer<T>>);
  }
}
