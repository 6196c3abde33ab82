import { CircuitState } from './circuit-state.js';
import type { CircuitTransition } from './store/circuit-store.js';
import type { BulkheadRejectedError, CircuitOpenError, RejectionReason } from './errors.js';

/** Something that can be released. Also usable with `using` where `Symbol.dispose` exists. */
export interface Disposable {
  /** Releases the resource. Calling it again does nothing. */
  dispose(): void;
}

/** A typed event: call it with a listener to subscribe; dispose the result to unsubscribe. */
export type Event<T> = (listener: (event: T) => void) => Disposable;

/**
 * A circuit changed state: the transition as the circuit reports it (`from`, `to`, `reason`, the
 * new `generation`, `at`, and `openDuration` when it opened), and the breaker's name.
 */
export interface StateChangeEvent extends CircuitTransition {
  /** The breaker's name. */
  readonly breaker: string;
}

/** A call succeeded (or failed with an error that `isFailure` says is not a failure). */
export interface SuccessEvent {
  readonly breaker: string;
  /** How long the call took, in milliseconds; `NaN` if timing was off when the call started. */
  readonly duration: number;
}

/** A call failed and the failure was counted. */
export interface FailureEvent {
  readonly breaker: string;
  /** What the call threw or rejected with (any value, not always an `Error`). */
  readonly error: unknown;
  /** How long the call took, in milliseconds; `NaN` if timing was off when the call started. */
  readonly duration: number;
}

/** A call ran past the breaker's `timeout` and was counted as a timeout. */
export interface TimeoutEvent {
  readonly breaker: string;
  /** The timeout that fired, in milliseconds. */
  readonly timeout: number;
}

/** A call was rejected without reaching the protected function. */
export interface RejectionEvent {
  readonly breaker: string;
  readonly reason: RejectionReason;
  /** The error the caller received (unless a fallback answered instead). */
  readonly error: CircuitOpenError | BulkheadRejectedError;
}

/** A call failed with an error that `ignore` (or the caller's own abort signal) excludes. */
export interface IgnoredEvent {
  readonly breaker: string;
  readonly error: unknown;
  /**
   * How long the call took, in milliseconds; `NaN` if timing was off when the call started, or if
   * the call never ran (its caller's signal had already aborted).
   */
  readonly duration: number;
}

/** The breaker's store changed status: a shared store became unreachable, or came back. */
export interface StoreStatusEvent {
  readonly breaker: string;
  readonly status: 'memory' | 'shared' | 'degraded';
  /** Why the store degraded, when it did. */
  readonly error?: unknown;
}

/** Every event a breaker emits, by name. */
export interface BreakerEventMap {
  stateChange: StateChangeEvent;
  open: StateChangeEvent;
  close: StateChangeEvent;
  halfOpen: StateChangeEvent;
  success: SuccessEvent;
  failure: FailureEvent;
  timeout: TimeoutEvent;
  rejection: RejectionEvent;
  ignored: IgnoredEvent;
  storeStatus: StoreStatusEvent;
}

/** The name of a breaker event. */
export type BreakerEventName = keyof BreakerEventMap;

type Listener<T> = (event: T) => void;
type Table<M> = { [K in keyof M]?: readonly Listener<M[K]>[] };

const disposeSymbol: symbol | undefined = (Symbol as { dispose?: symbol }).dispose;

/** Makes a {@link Disposable} that runs `release` once. */
export function toDisposable(release: () => void): Disposable {
  let done = false;
  const disposable: Disposable = {
    dispose() {
      if (done) return;
      done = true;
      release();
    },
  };
  if (disposeSymbol !== undefined) {
    (disposable as unknown as Record<symbol, () => void>)[disposeSymbol] = disposable.dispose;
  }
  return disposable;
}

/**
 * Typed listeners with ordered, re-entrancy-safe delivery.
 *
 * - Listener lists are replaced, never mutated, so adding or removing a listener while an event is
 *   being delivered cannot skip or repeat anyone.
 * - An event emitted from inside a listener is queued and delivered after the current one, so every
 *   listener sees events in the order they happened.
 * - A listener that throws is reported to `onError` and the others still run; the emitter's owner
 *   has already finished changing its state before it emits, so nothing can be left half-done.
 */
export class Listeners<M> {
  private table: Table<M> | undefined;
  private queue: Array<[keyof M, unknown]> | undefined;
  private delivering = false;

  constructor(private readonly onError: (error: unknown, event: keyof M) => void) {}

  /** Whether anyone listens for `name`. Cheap enough for hot paths. */
  has(name: keyof M): boolean {
    return this.table?.[name] !== undefined;
  }

  /** Subscribes `listener` to `name`. */
  add<K extends keyof M>(name: K, listener: Listener<M[K]>): Disposable {
    if (typeof listener !== 'function') {
      throw new TypeError(
        `A listener for "${String(name)}" must be a function, received ${typeof listener}`,
      );
    }
    const table: Table<M> = (this.table ??= {});
    table[name] = [...(table[name] ?? []), listener];
    return toDisposable(() => {
      const current = this.table?.[name];
      if (current === undefined) return;
      const index = current.indexOf(listener);
      if (index < 0) return;
      const next = current.filter((_, i) => i !== index);
      if (this.table) this.table[name] = next.length > 0 ? next : undefined;
    });
  }

  /** Delivers `event` to every listener of `name`, after any event already being delivered. */
  emit<K extends keyof M>(name: K, event: M[K]): void {
    this.emitAs(name, undefined, event);
  }

  /**
   * Delivers `event` to the listeners of `first`, then to those of `second`, as one occurrence:
   * an event emitted by a listener of `first` is delivered after both, not between them.
   */
  emitAs<K extends keyof M>(first: K, second: K | undefined, event: M[K]): void {
    if (this.delivering) {
      const queue = (this.queue ??= []);
      queue.push([first, event]);
      if (second !== undefined) queue.push([second, event]);
      return;
    }
    this.delivering = true;
    if (second !== undefined) (this.queue ??= []).push([second, event]);
    try {
      this.deliver(first, event);
    } finally {
      this.release();
    }
  }

  /**
   * Holds delivery: events emitted until {@link release} are queued, then delivered in order. The
   * owner emits what happened and acts on it inside one hold, so a listener cannot act in between
   * (a `reset()` in a `failure` listener runs after the breaker counted that failure). Returns
   * whether this call took the hold (`false`: someone is already delivering, and will drain).
   */
  hold(): boolean {
    if (this.delivering) return false;
    this.delivering = true;
    return true;
  }

  /**
   * Ends a hold taken by {@link hold} with `event` first, then every event queued during the hold,
   * in order: what `emit(name, event)` at the start of the hold and then {@link release} deliver,
   * without queueing `event` (the owner acted first, and its reaction's events wait behind it).
   */
  releaseWith<K extends keyof M>(name: K, event: M[K]): void {
    try {
      this.deliver(name, event);
    } finally {
      this.release();
    }
  }

  /** Ends a hold taken by {@link hold}: delivers every queued event, in order. */
  release(): void {
    try {
      const queue = this.queue;
      if (queue !== undefined) {
        for (let i = 0; i < queue.length; i++) {
          const [queuedName, queuedEvent] = queue[i]!;
          this.deliver(queuedName, queuedEvent as M[keyof M]);
        }
      }
    } finally {
      this.queue = undefined;
      this.delivering = false;
    }
  }

  /** Removes every listener. */
  clear(): void {
    this.table = undefined;
    this.queue = undefined;
  }

  private deliver<K extends keyof M>(name: K, event: M[K]): void {
    const list = this.table?.[name];
    if (list === undefined) return;
    for (const listener of list) {
      try {
        listener(event);
      } catch (error) {
        this.reportError(error, name);
      }
    }
  }

  private reportError(error: unknown, name: keyof M): void {
    try {
      this.onError(error, name);
    } catch {
      // The error reporter itself failed; there is nowhere left to report to, and state is intact.
    }
  }
}

/**
 * Emits a breaker's transition as `stateChange`, then as `open`, `close` or `halfOpen`: one
 * occurrence, two names, so that a transition a `stateChange` listener causes is delivered after
 * this one's second name, in the order things happened.
 */
export function emitTransition(
  listeners: Listeners<BreakerEventMap>,
  breaker: string,
  transition: CircuitTransition,
): void {
  const event: StateChangeEvent = { breaker, ...transition };
  const to = transition.to;
  listeners.emitAs(
    'stateChange',
    to === CircuitState.Open
      ? 'open'
      : to === CircuitState.Closed
        ? 'close'
        : to === CircuitState.HalfOpen
          ? 'halfOpen'
          : undefined,
    event,
  );
}
