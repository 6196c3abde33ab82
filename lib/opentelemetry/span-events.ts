import { trace } from '@opentelemetry/api';
import type { RejectionEvent, StateChangeEvent } from '../core/index.js';
import { ATTRIBUTES, attributeValue } from './telemetry-attributes.js';

/**
 * Adds `circuit_breaker.rejected` to the active span, if one is recording: the span of the call
 * that was refused (a refusal is decided synchronously, in the caller's context).
 */
export function addRejectionEvent(event: RejectionEvent, reason: string): void {
  const span = trace.getActiveSpan();
  if (span === undefined || !span.isRecording()) return;
  const retryAfter = (event.error as { retryAfter?: number }).retryAfter;
  span.addEvent('circuit_breaker.rejected', {
    [ATTRIBUTES.name]: event.breaker,
    [ATTRIBUTES.rejectionReason]: reason,
    // In seconds, like every duration here; absent for a bulkhead refusal.
    ...(typeof retryAfter === 'number' ? { [ATTRIBUTES.retryAfter]: retryAfter / 1000 } : {}),
  });
}

/**
 * Adds `circuit_breaker.state_change` to the active span, if one is recording. A transition is
 * made inside what caused it, so that span is the call whose outcome tripped or closed the
 * circuit, the call or state read that found the open period over, or the caller of `isolate()`,
 * `disable()` or `reset()`.
 */
export function addStateChangeEvent(event: StateChangeEvent): void {
  const span = trace.getActiveSpan();
  if (span === undefined || !span.isRecording()) return;
  span.addEvent('circuit_breaker.state_change', {
    [ATTRIBUTES.name]: event.breaker,
    [ATTRIBUTES.previousState]: attributeValue(event.from),
    [ATTRIBUTES.state]: attributeValue(event.to),
    [ATTRIBUTES.transitionReason]: attributeValue(event.reason),
  });
}
