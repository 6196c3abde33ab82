import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import type { CircuitBreakerRegistry } from '../circuit-breaker.registry.js';
import type { TransitionReason } from '../core/index.js';
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

/**
 * The recent events of every breaker, one bounded ring each, fed by the registry's `events$` from
 * module init to module destroy; the last transition of each breaker; and the transitions as they
 * happen, for the event stream. A manual transition made through the endpoints carries who asked.
 * @internal
 */
export class OpsEventLog implements OnModuleInit, OnModuleDestroy {
  private readonly rings = new Map<string, EventRing<Logged>>();
  private readonly last = new Map<string, OpsTransition>();
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
        this.last.set(e.breaker, toTransition(e.event, time));
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
  async manual(request: ManualRequest, act: () => void, done: () => boolean): Promise<void> {
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
        type: transitionType(request.reason),
        creationTime: isoNow(),
        reason: request.reason as TransitionReason,
        requestedBy: request.requestedBy,
      });
    }
  }

  /** The recent events of breaker `name` (or of every breaker), oldest first, of `type` if given. */
  events(name?: string, type?: CircuitBreakerOpsEventType): CircuitBreakerOpsEvent[] {
    const logged =
      name === undefined
        ? [...this.rings.values()].flatMap((ring) => ring.toArray()).sort((a, b) => a.seq - b.seq)
        : (this.rings.get(name)?.toArray() ?? []);
    const events = logged.map((l) => l.event);
    return type === undefined ? events : events.filter((e) => e.type === type);
  }

  /** The last transition of breaker `name` seen since the module started, or `null`. */
  lastTransition(name: string): OpsTransition | null {
    return this.last.get(name) ?? null;
  }

  /** Calls `listener` with every transition (and manual request) from now on; returns the unsubscribe. */
  onTransition(listener: (event: CircuitBreakerOpsEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private record(event: CircuitBreakerOpsEvent): void {
    const name = event.circuitBreakerName;
    let ring = this.rings.get(name);
    if (ring === undefined) this.rings.set(name, (ring = new EventRing(this.capacity)));
    ring.push({ seq: this.seq++, event });
    if (event.stateTransition !== undefined || event.requestedBy !== undefined) {
      for (const listener of this.listeners) listener(event);
    }
  }
}
