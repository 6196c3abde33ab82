import type { CircuitBreakerEvent } from '../circuit-breaker.events.js';
import type { StateChangeEvent } from '../core/index.js';
import type {
  CircuitBreakerOpsEvent,
  CircuitBreakerOpsEventType,
  OpsTransition,
} from './ops-payloads.interface.js';

/** Error messages are abridged to this many characters, so that an event's size is bounded. */
const MAX_MESSAGE = 500;

/** `Name: message`, as resilience4j's `throwable.toString()`; abridged. */
export function errorMessage(error: unknown): string {
  let text: string;
  try {
    text =
      error instanceof Error
        ? `${error.name}: ${error.message}`
        : typeof error === 'string'
          ? error
          : (JSON.stringify(error) ?? String(error));
  } catch {
    text = Object.prototype.toString.call(error);
  }
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 3)}...` : text;
}

/** The event type of a transition: the manual ones have their own. */
export function transitionType(reason: StateChangeEvent['reason']): CircuitBreakerOpsEventType {
  switch (reason) {
    case 'reset':
      return 'RESET';
    case 'isolate':
      return 'FORCED_OPEN_STATE';
    case 'disable':
      return 'DISABLED_STATE';
    default:
      return 'STATE_TRANSITION';
  }
}

export function toTransition(event: StateChangeEvent, time: string): OpsTransition {
  return { from: event.from, to: event.to, reason: event.reason, time };
}

const duration = (ms: number) => (ms === ms ? { durationInMs: Math.round(ms) } : {});

/** A registry event as an ops event (resilience4j's names), seen at `time` (ISO-8601). */
export function toOpsEvent(e: CircuitBreakerEvent, time: string): CircuitBreakerOpsEvent {
  const base = {
    circuitBreakerName: e.breaker,
    ...(e.family === undefined ? {} : { family: e.family }),
    creationTime: time,
  };
  switch (e.type) {
    case 'success':
      return { ...base, type: 'SUCCESS', ...duration(e.event.duration) };
    case 'failure':
      return {
        ...base,
        type: 'ERROR',
        errorMessage: errorMessage(e.event.error),
        ...duration(e.event.duration),
      };
    case 'ignored':
      return {
        ...base,
        type: 'IGNORED_ERROR',
        errorMessage: errorMessage(e.event.error),
        ...duration(e.event.duration),
      };
    case 'timeout':
      return { ...base, type: 'TIMEOUT', ...duration(e.event.timeout) };
    case 'rejection':
      return { ...base, type: 'NOT_PERMITTED', errorMessage: errorMessage(e.event.error) };
    case 'stateChange':
      return {
        ...base,
        type: transitionType(e.event.reason),
        stateTransition: `${e.event.from}_TO_${e.event.to}`,
        reason: e.event.reason,
      };
  }
}
