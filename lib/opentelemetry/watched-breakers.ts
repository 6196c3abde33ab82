import { CIRCUIT_BREAKER_EVENT_TYPES } from '../circuit-breaker.constants.js';
import { Breaker, BreakerFamily, type Disposable } from '../core/index.js';
import { describeValue } from '../core/internal.js';
import type { EventHandlers } from './breaker-instruments.js';
import { FamilySlots, type MemberName, type StateReading } from './family-slots.js';
import type {
  CircuitBreakerTelemetrySource,
  CircuitBreakerTelemetryTarget,
  TelemetryEventType,
} from './circuit-breaker-telemetry-options.interface.js';

/** The breakers one registration instruments: their events go to the handlers given to {@link watch}. */
export interface WatchedBreakers extends Disposable {
  /** Each live breaker's (and family catch-all's) state, read now. */
  states(): Iterable<StateReading>;
}

/** A checked target: an application's registry, or a list of engine breakers and families. */
export type CheckedTarget =
  | { readonly registry: CircuitBreakerTelemetrySource }
  | { readonly breakers: readonly Breaker[]; readonly families: readonly BreakerFamily[] };

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
  const stranger = list.find((item) => !(item instanceof Breaker || item instanceof BreakerFamily));
  if (!iterable || stranger !== undefined) {
    throw new TypeError(
      `${caller}: expected a CircuitBreakerRegistry or an iterable of Breakers and BreakerFamilies, received ` +
        describeValue(iterable ? stranger : target) +
        (iterable ? ' in the list' : ''),
    );
  }
  return {
    breakers: list.filter((item): item is Breaker => item instanceof Breaker),
    families: list.filter((item): item is BreakerFamily => item instanceof BreakerFamily),
  };
}

/** Starts delivering the target's events to `handlers`; a family's keys beyond `cap` share a name. */
export function watch(
  target: CheckedTarget,
  handlers: EventHandlers,
  cap: number,
): WatchedBreakers {
  return 'registry' in target
    ? watchRegistry(target.registry, handlers, cap)
    : watchBreakers(target, handlers, cap);
}

/** Listens to one breaker's events, under a family key's name if given. */
function listen(breaker: Breaker, handlers: EventHandlers, member?: MemberName): Disposable[] {
  return CIRCUIT_BREAKER_EVENT_TYPES.map(<K extends TelemetryEventType>(type: K) =>
    breaker.on(type, (event) => handlers[type](event, member)),
  );
}

/** Engine breakers and families, listened to one by one; a disposed one is let go at the next collection. */
function watchBreakers(
  target: { readonly breakers: readonly Breaker[]; readonly families: readonly BreakerFamily[] },
  handlers: EventHandlers,
  cap: number,
): WatchedBreakers {
  const subscriptions = new Map<Breaker, readonly Disposable[]>();
  for (const breaker of target.breakers) {
    if (breaker.isDisposed || subscriptions.has(breaker)) continue;
    subscriptions.set(breaker, listen(breaker, handlers));
  }
  const families = new Map<BreakerFamily, FamilySlots>();
  for (const family of target.families) {
    if (family.isDisposed || families.has(family)) continue;
    const onKey = (breaker: Breaker, member: MemberName) => listen(breaker, handlers, member);
    families.set(family, new FamilySlots(family, cap, onKey));
  }
  const letGo = (breaker: Breaker): void => {
    subscriptions.get(breaker)?.forEach((subscription) => subscription.dispose());
    subscriptions.delete(breaker);
  };
  const letGoFamily = (family: BreakerFamily): void => {
    families.get(family)?.dispose();
    families.delete(family);
  };
  return {
    *states() {
      for (const breaker of [...subscriptions.keys()]) {
        if (!breaker.isDisposed) yield { name: breaker.name, state: breaker.state };
        else letGo(breaker);
      }
      for (const [family, slots] of [...families]) {
        if (!family.isDisposed) yield* slots.readings();
        else letGoFamily(family);
      }
    },
    dispose() {
      [...subscriptions.keys()].forEach(letGo);
      [...families.keys()].forEach(letGoFamily);
    },
  };
}

/** An application's registry: one subscription to its event stream covers later breakers too. */
function watchRegistry(
  registry: CircuitBreakerTelemetrySource,
  handlers: EventHandlers,
  cap: number,
): WatchedBreakers {
  let open = true;
  const families = new Map<string, FamilySlots>();
  /** Follows the families declared since (a family is created with the registry, or later). */
  const follow = (): void => {
    if (!open || registry.familyNames === undefined || registry.family === undefined) return;
    for (const name of registry.familyNames()) {
      if (!families.has(name)) families.set(name, new FamilySlots(registry.family(name), cap));
    }
  };
  const stop = (): void => {
    open = false;
    for (const slots of families.values()) slots.dispose();
    families.clear();
  };
  follow();
  const subscription = registry.events$.subscribe({
    next(e) {
      const handler = handlers[e.type] as (event: typeof e.event, member?: MemberName) => void;
      if (e.family === undefined || e.key === undefined) return handler(e.event);
      if (!families.has(e.family)) follow();
      // A key beyond the cap is recorded under its family's catch-all, never a name of its own.
      const slots = families.get(e.family);
      if (slots !== undefined) handler(e.event, slots.nameOf(e.key));
    },
    complete: stop,
  });
  return {
    *states() {
      if (!open || registry.isShutDown) return;
      for (const [name, { state }] of Object.entries(registry.snapshot())) yield { name, state };
      follow();
      for (const slots of families.values()) yield* slots.readings();
    },
    dispose() {
      stop();
      subscription.unsubscribe();
    },
  };
}
