import type { CircuitBreakerEvent, CircuitBreakerEventType } from '../circuit-breaker.events.js';
import type { BreakerEventMap, CircuitState } from '../core/index.js';

/**
 * What one breaker did, in order, since the application was compiled (or since `clear()`): its
 * transitions, successes, failures, timeouts, rejections and ignored errors, as
 * `CircuitBreakerRegistry.events$` carries them. Read it from `CircuitBreakerTesting.events(name)`.
 * @publicApi
 */
export interface CircuitBreakerEventRecorder {
  /** The breaker's name. */
  readonly breaker: string;
  /** Every event recorded, oldest first. */
  readonly all: readonly CircuitBreakerEvent[];
  /** The type of each event, in order: `['failure', 'stateChange', 'rejection']`. */
  types(): CircuitBreakerEventType[];
  /** The engine events of one type, in order: `ofType('stateChange')[0]!.reason`. */
  ofType<K extends CircuitBreakerEventType>(type: K): Array<BreakerEventMap[K]>;
  /** The state each transition moved to, in order: `['OPEN', 'HALF_OPEN', 'CLOSED']`. */
  states(): CircuitState[];
  /** Forgets what was recorded so far; recording goes on. */
  clear(): void;
}

/** The recorder of one breaker over the list of its events, which the testing service fills. */
export class EventLog implements CircuitBreakerEventRecorder {
  readonly all: CircuitBreakerEvent[] = [];

  constructor(readonly breaker: string) {}

  types(): CircuitBreakerEventType[] {
    return this.all.map((e) => e.type);
  }

  ofType<K extends CircuitBreakerEventType>(type: K): Array<BreakerEventMap[K]> {
    return this.all
      .filter((e): e is Extract<CircuitBreakerEvent, { type: K }> => e.type === type)
      .map((e) => e.event as BreakerEventMap[K]);
  }

  states(): CircuitState[] {
    return this.ofType('stateChange').map((e) => e.to);
  }

  clear(): void {
    this.all.length = 0;
  }
}
