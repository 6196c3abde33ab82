import { Observable, type Observer, type Operator, type Subscriber, type Subscription } from 'rxjs';

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
 * subscriber that threw stays subscribed, and the others are not affected. Operators keep the class
 * through `lift`, as rxjs's own `Subject` does, so a subscriber at the end of `pipe(...)` is
 * covered too.
 * @internal
 */
export class ReportingObservable<T> extends Observable<T> {
  constructor(
    subscribe: ((subscriber: Subscriber<T>) => (() => void) | undefined) | undefined,
    private readonly report: (error: unknown) => void,
  ) {
    super(subscribe);
  }

  override lift<R>(operator?: Operator<T, R>): Observable<R> {
    const lifted = new ReportingObservable<R>(undefined, this.report);
    lifted.source = this;
    lifted.operator = operator;
    return lifted;
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
