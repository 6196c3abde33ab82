import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import type { CircuitBreakerRegistry } from '../circuit-breaker.registry.js';
import type { Disposable, TransitionReason } from '../core/index.js';
import { EventRing } from './event-ring.js';
import { toOpsEvent, toTransition, transitionType } from './ops-event.mapper.js';
import type {
  CircuitBreakerOpsEvent,
  CircuitBreakerOpsEventType,
  OpsTransition,
} from './ops-payloads.interface.js';

/** A manual transition asked for over HTTP, waiting for the breaker's event. */
interface ManualRequest {
  readonly name: string;
  readonly reason: 'reset' | 'isolate' | 'disable';
  readonly requestedBy: string;
}

/** A manual request while its transition is awaited. */
interface Pending {
  readonly request: ManualRequest;
  /** Whether the breaker's transition event was seen (and carries who asked). */
  claimed: boolean;
  /** Ends the wait for a transition that a shared store reports later. */
  wake: (() => void) | undefined;
}

/**
 * How long a manual request waits for its transition when the breaker has not made it at once (a
 * shared store reports it once Redis has answered), in ms.
 */
export const MANUAL_WAIT_MS = 2_000;

/** The time now as ISO-8601, formatted once per millisecond however many events share it. */
const isoNow = (() => {
  let ms = NaN;
  let iso = '';
  return (): string => {
    const now = Date.now();
    if (now !== ms) {
      ms = now;
      iso = new Date(now).toISOString();
    }
    return iso;
  };
})();

interface Logged {
  /** Order across every breaker, for the merged list. */
  readonly seq: number;
  readonly event: CircuitBreakerOpsEvent;
}

/** A family's keys' last transitions, forgotten as keys are released. */
interface FamilyLog {
  readonly last: Map<string, OpsTransition>;
  readonly watch: Disposable;
}

/**
 * The recent events of every breaker, one bounded ring each (one per family, shared by its keys:
 * a family of 10,000 keys keeps as many events as one breaker), fed by the registry's `events$`
 * from module init to module destroy; the last transition of each breaker (of each key held, for
 * a family); and the transitions as they happen, for the event stream. A manual transition made
 * through the endpoints carries who asked.
 * @internal
 */
export class OpsEventLog implements OnModuleInit, OnModuleDestroy {
  private readonly rings = new Map<string, EventRing<Logged>>();
  private readonly last = new Map<string, OpsTransition>();
  private readonly families = new Map<string, FamilyLog>();
  private readonly listeners = new Set<(event: CircuitBreakerOpsEvent) => void>();
  private subscription: Subscription | undefined;
  private readonly pending = new Map<string, Pending>();
  private seq = 0;

  constructor(
    private readonly registry: CircuitBreakerRegistry,
    private readonly capacity: number,
  ) {}

  onModuleInit(): void {
    this.subscription ??= this.registry.events$.subscribe((e) => {
      const time = isoNow();
      let event = toOpsEvent(e, time);
      if (e.type === 'stateChange') {
        const transition = toTransition(e.event, time);
        if (e.family === undefined || e.key === undefined) this.last.set(e.breaker, transition);
        else this.familyLog(e.family)?.last.set(e.key, transition);
        const waiting = this.pending.get(e.breaker);
        if (waiting?.request.reason === e.event.reason) {
          this.pending.delete(e.breaker);
          waiting.claimed = true;
          waiting.wake?.();
          event = { ...event, requestedBy: waiting.request.requestedBy };
        }
      }
      this.record(event);
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.listeners.clear();
    for (const family of this.families.values()) family.watch.dispose();
    this.families.clear();
    for (const waiting of this.pending.values()) waiting.wake?.();
    this.pending.clear();
  }

  /**
   * Runs `act` (a manual transition of breaker `request.name`) and records who asked on the
   * transition event it causes. When the breaker is not `done()` at once (a shared store makes the
   * transition once Redis has answered), waits for that event, at most {@link MANUAL_WAIT_MS}. When
   * no transition comes (the breaker was already in that state), records the request as an event
   * of its own, without `stateTransition`.
   */
  async manual(
    request: ManualRequest,
    act: () => void,
    done: () => boolean,
    family?: string,
  ): Promise<void> {
    const waiting: Pending = { request, claimed: false, wake: undefined };
    this.pending.set(request.name, waiting);
    try {
      act();
    } catch (error) {
      this.pending.delete(request.name);
      throw error;
    }
    if (!waiting.claimed && !done() && this.subscription !== undefined) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, MANUAL_WAIT_MS);
        timer.unref();
        waiting.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    if (this.pending.get(request.name) === waiting) this.pending.delete(request.name);
    if (!waiting.claimed) {
      this.record({
        circuitBreakerName: request.name,
        ...(family === undefined ? {} : { family }),
        type: transitionType(request.reason),
        creationTime: isoNow(),
        reason: request.reason as TransitionReason,
        requestedBy: request.requestedBy,
      });
    }
  }

  /**
   * The recent events of breaker or family `name` (or of every breaker and family), oldest first,
   * of `type` if given, of the breaker named `breaker` only if given (a key of family `name`).
   */
  events(
    name?: string,
    type?: CircuitBreakerOpsEventType,
    breaker?: string,
  ): CircuitBreakerOpsEvent[] {
    const logged =
      name === undefined
        ? [...this.rings.values()].flatMap((ring) => ring.toArray()).sort((a, b) => a.seq - b.seq)
        : (this.rings.get(name)?.toArray() ?? []);
    return logged
      .map((l) => l.event)
      .filter(
        (e) =>
          (type === undefined || e.type === type) &&
          (breaker === undefined || e.circuitBreakerName === breaker),
      );
  }

  /**
   * The last transition of breaker `name` (of key `key` of family `name`, if given) seen since the
   * module started, or `null`.
   */
  lastTransition(name: string, key?: string): OpsTransition | null {
    if (key === undefined) return this.last.get(name) ?? null;
    return this.families.get(name)?.last.get(key) ?? null;
  }

  /** The log of family `name`'s keys, following its releases from the first event on. */
  private familyLog(name: string): FamilyLog | undefined {
    let log = this.families.get(name);
    if (log === undefined && this.registry.hasFamily(name)) {
      const last = new Map<string, OpsTransition>();
      const watch = this.registry.family(name).onKeyEvicted(({ key }) => last.delete(key));
      this.families.set(name, (log = { last, watch }));
    }
    return log;
  }

  /** Calls `listener` with every transition (and manual request) from now on; returns the unsubscribe. */
  onTransition(listener: (event: CircuitBreakerOpsEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private record(event: CircuitBreakerOpsEvent): void {
    // A family's keys share its ring: the log is bounded per family, not per key.
    const name = event.family ?? event.circuitBreakerName;
    let ring = this.rings.get(name);
    if (ring === undefined) this.rings.set(name, (ring = new EventRing(this.capacity)));
    ring.push({ seq: this.seq++, event });
    if (event.stateTransition !== undefined || event.requestedBy !== undefined) {
      for (const listener of this.listeners) listener(event);
    }
  }
}
