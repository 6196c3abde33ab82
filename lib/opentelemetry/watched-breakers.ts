import { CIRCUIT_BREAKER_EVENT_TYPES } from '../circuit-breaker.constants.js';
import { Breaker, type CircuitState, type Disposable } from '../core/index.js';
import { describeValue } from '../core/internal.js';
import type { EventHandlers } from './breaker-instruments.js';
import type {
  CircuitBreakerTelemetrySource,
  CircuitBreakerTelemetryTarget,
  TelemetryEventType,
} from './circuit-breaker-telemetry-options.interface.js';

/** The breakers one registration instruments: their events go to the handlers given to {@link watch}. */
export interface WatchedBreakers extends Disposable {
  /** Each live breaker's name and state, read now. */
  states(): Iterable<readonly [string, CircuitState]>;
}

/** A checked target: an application's registry, or a list of engine breakers. */
export type CheckedTarget =
  { readonly registry: CircuitBreakerTelemetrySource } | { readonly breakers: readonly Breaker[] };

/** Tells a registry from an iterable of breakers, throwing a `TypeError` for anything else. */
export function checkTarget(target: CircuitBreakerTelemetryTarget, caller: string): CheckedTarget {
  const t = target as Partial<CircuitBreakerTelemetrySource> | null | undefined;
  if (
    typeof t?.snapshot === 'function' &&
    typeof t.events$ === 'object' &&
    typeof t.events$.subscribe === 'function'
  ) {
    return { registry: target as CircuitBreakerTelemetrySource };
  }
  const iterable =
    typeof target === 'object' &&
    target !== null &&
    typeof (target as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function';
  const list: unknown[] = iterable ? [...(target as Iterable<unknown>)] : [];
  const stranger = list.find((item) => !(item instanceof Breaker));
  if (!iterable || stranger !== undefined) {
    throw new TypeError(
      `${caller}: expected a CircuitBreakerRegistry or an iterable of Breakers, received ` +
        describeValue(iterable ? stranger : target) +
        (iterable ? ' in the list' : ''),
    );
  }
  return { breakers: list as Breaker[] };
}

/** Starts delivering the target's events to `handlers`. */
export function watch(target: CheckedTarget, handlers: EventHandlers): WatchedBreakers {
  return 'registry' in target
    ? watchRegistry(target.registry, handlers)
    : watchBreakers(target.breakers, handlers);
}

/** Engine breakers, listened to one by one; a disposed one is let go at the next collection. */
function watchBreakers(breakers: readonly Breaker[], handlers: EventHandlers): WatchedBreakers {
  const subscriptions = new Map<Breaker, readonly Disposable[]>();
  for (const breaker of breakers) {
    if (breaker.isDisposed || subscriptions.has(breaker)) continue;
    const listen = <K extends TelemetryEventType>(type: K): Disposable =>
      breaker.on(type, handlers[type]);
    subscriptions.set(breaker, CIRCUIT_BREAKER_EVENT_TYPES.map(listen));
  }
  const letGo = (breaker: Breaker): void => {
    subscriptions.get(breaker)?.forEach((subscription) => subscription.dispose());
    subscriptions.delete(breaker);
  };
  return {
    *states() {
      for (const breaker of [...subscriptions.keys()]) {
        if (!breaker.isDisposed) yield [breaker.name, breaker.state] as const;
        else letGo(breaker);
      }
    },
    dispose() {
      [...subscriptions.keys()].forEach(letGo);
    },
  };
}

/** An application's registry: one subscription to its event stream covers later breakers too. */
function watchRegistry(
  registry: CircuitBreakerTelemetrySource,
  handlers: EventHandlers,
): WatchedBreakers {
  let open = true;
  const subscription = registry.events$.subscribe({
    next(e) {
      (handlers[e.type] as (event: typeof e.event) => void)(e.event);
    },
    complete() {
      open = false;
    },
  });
  return {
    *states() {
      if (!open || registry.isShutDown) return;
      for (const [name, { state }] of Object.entries(registry.snapshot()))
        yield [name, state] as const;
    },
    dispose() {
      open = false;
      subscription.unsubscribe();
    },
  };
}
