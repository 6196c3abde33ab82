import { type Observable, Subject } from 'rxjs';
import type { Breaker, BreakerEventMap, CallbackSource, Disposable } from './core/internal.js';
import { CIRCUIT_BREAKER_EVENT_TYPES } from './circuit-breaker.constants.js';
import { ReportingObservable } from './utils/reporting-observable.js';

/**
 * The event types on `CircuitBreakerRegistry.events$`: the engine's events, without the `open`,
 * `close` and `halfOpen` aliases of `stateChange` (read `event.to` instead), so that each
 * transition appears once.
 * @publicApi
 */
export type CircuitBreakerEventType =
  'stateChange' | 'success' | 'failure' | 'timeout' | 'rejection' | 'ignored';

/**
 * One event of one breaker, as `CircuitBreakerRegistry.events$` delivers it. Discriminated by
 * `type`: `if (e.type === 'stateChange') console.log(e.event.from, e.event.to)`.
 * @publicApi
 */
export type CircuitBreakerEvent = {
  [K in CircuitBreakerEventType]: {
    /** The breaker's name (`<family>:<key>` for a family's breaker). */
    readonly breaker: string;
    /** For a family's breaker: the family's name. */
    readonly family?: string;
    /** For a family's breaker: its key. */
    readonly key?: string;
    readonly type: K;
    /** The engine's event. */
    readonly event: BreakerEventMap[K];
  };
}[CircuitBreakerEventType];

/** Where an error is reported when no breaker's event was being delivered (`defaults`'). */
type CallbackErrorReporter = (error: unknown, source: CallbackSource, breaker: string) => void;

/** Which family a breaker belongs to, and its key there. */
export interface FamilyMember {
  readonly family: string;
  readonly key: string;
}

interface Source {
  readonly breaker: Breaker;
  readonly member: FamilyMember | undefined;
  /** The engine listeners feeding the stream, while someone subscribes. */
  listeners: Disposable[] | undefined;
}

/**
 * Every event of a set of breakers as one stream (the registry's `events$`), including breakers
 * added later. The engine's listeners are attached only while someone subscribes. A subscriber
 * that throws is reported to the `onCallbackError` of the breaker whose event it was handling
 * (or to `fallbackReporter`, else `console.error`) and stays subscribed.
 * @internal
 */
export class CircuitBreakerEventStream {
  readonly events$: Observable<CircuitBreakerEvent>;

  private readonly sources = new Map<string, Source>();
  private readonly subject = new Subject<CircuitBreakerEvent>();
  private observers = 0;
  /** The breaker whose event is being delivered to subscribers now, if any. */
  private delivering: string | undefined = undefined;
  private closed = false;

  constructor(private readonly fallbackReporter: CallbackErrorReporter | undefined) {
    this.events$ = new ReportingObservable<CircuitBreakerEvent>((subscriber) => {
      if (this.closed) {
        subscriber.complete();
        return undefined;
      }
      const subscription = this.subject.subscribe(subscriber);
      if (this.observers++ === 0)
        for (const [name, source] of this.sources) this.attach(name, source);
      return () => {
        subscription.unsubscribe();
        if (--this.observers === 0) for (const source of this.sources.values()) this.detach(source);
      };
    }, this.reportSubscriberError.bind(this));
  }

  /** Adds a breaker's events to the stream (a family's, with its family and key). */
  add(name: string, breaker: Breaker, member?: FamilyMember): void {
    if (this.closed) return;
    const source: Source = { breaker, member, listeners: undefined };
    this.sources.set(name, source);
    if (this.observers > 0) this.attach(name, source);
  }

  /** Stops streaming a breaker's events (a family's key that was released). */
  remove(name: string): void {
    const source = this.sources.get(name);
    if (source === undefined) return;
    this.detach(source);
    this.sources.delete(name);
  }

  /** Stops listening to every breaker: no event reaches the stream any more. */
  detachAll(): void {
    this.closed = true;
    for (const source of this.sources.values()) this.detach(source);
  }

  /** Completes the stream, and at once for later subscribers. */
  complete(): void {
    this.detachAll();
    this.subject.complete();
  }

  private attach(name: string, source: Source): void {
    if (source.listeners !== undefined) return;
    const member = source.member;
    source.listeners = CIRCUIT_BREAKER_EVENT_TYPES.map((type) =>
      source.breaker.on(type, (event: unknown) => {
        const outer = this.delivering;
        this.delivering = name;
        try {
          this.subject.next(
            (member === undefined
              ? { breaker: name, type, event }
              : {
                  breaker: name,
                  family: member.family,
                  key: member.key,
                  type,
                  event,
                }) as CircuitBreakerEvent,
          );
        } finally {
          this.delivering = outer;
        }
      }),
    );
  }

  private detach(source: Source): void {
    for (const listener of source.listeners ?? []) listener.dispose();
    source.listeners = undefined;
  }

  /** A subscriber threw: report it where the breaker reports its own listeners' errors. */
  private reportSubscriberError(error: unknown): void {
    const name = this.delivering;
    const breaker = name === undefined ? undefined : this.sources.get(name)?.breaker;
    const configured = this.fallbackReporter;
    try {
      if (breaker !== undefined) breaker.options.onCallbackError(error, 'listener', breaker.name);
      else if (typeof configured === 'function') configured(error, 'listener', 'events$');
      else console.error('[nestjs-circuit-breaker] an events$ subscriber threw:', error);
    } catch {
      // The reporter itself threw: nothing else can be done, and no breaker is affected.
    }
  }
}
