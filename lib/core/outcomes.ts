import type { BreakerContext, Settlers } from './breaker-context.js';
import { CallTimeoutError } from './errors.js';
import { answerOrFail } from './fallback.js';
import type { CallOptions } from './options.js';
import type { BreakerEventMap, FailureEvent, Listeners, SuccessEvent } from './events.js';
import type { Outcome } from './stats.js';

/*
 * Settling admitted calls: ends a running call (its in-flight count and bulkhead slot, in one
 * place), classifies its error (`ignore`, `isFailure`), counts the outcome, emits its event and
 * tells the circuit. Every call `beginCall()` started is ended by exactly one of `settleSuccess`,
 * `settleError` or `settleTimeout`.
 *
 * Package-internal: functions on a breaker's context.
 */

/** Starts an admitted call: counts it in flight; returns its start reading (`NaN` if untimed). */
export function beginCall(core: BreakerContext): number {
  core.callStarted();
  return core.timing ? core.now() : NaN;
}

/** The call admitted with `ticket`, started at `start`, succeeded. */
export function settleSuccess(core: BreakerContext, ticket: number, start: number): void {
  endCall(core);
  const duration = start === start ? core.now() - start : NaN;
  core.countSettled('success', duration);
  const listeners = core.listeners;
  if (listeners === undefined || !listeners.has('success')) core.circuit.success(ticket, duration);
  else outcomeHeard(core, listeners, 'success', undefined, ticket, duration);
}

/**
 * The call ran past the breaker's `timeout`: counted as a timeout, a failure for the circuit.
 * Returns the error its caller receives.
 */
export function settleTimeout(core: BreakerContext, ticket: number): CallTimeoutError {
  endCall(core);
  const error = new CallTimeoutError(core.name, core.timeoutMs);
  core.countTimeout(core.timeoutMs);
  const listeners = core.listeners;
  const heard = listeners?.has('timeout') === true;
  const event = heard ? { breaker: core.name, timeout: error.timeout } : undefined;
  const held = heard && listeners!.hold();
  if (heard && !held) listeners!.emit('timeout', event!);
  try {
    core.circuit.failure(ticket, core.timeoutMs);
  } finally {
    if (held) listeners!.releaseWith('timeout', event!);
  }
  return error;
}

/**
 * The call ended with `error` (or, `aborted`, with no verdict: its caller cancelled it).
 * Classifies and counts it; returns how it was counted.
 */
export function settleError(
  core: BreakerContext,
  error: unknown,
  ticket: number,
  start: number,
  aborted: boolean,
): Outcome {
  endCall(core);
  const duration = start === start ? core.now() - start : NaN;
  const outcome = aborted ? 'ignored' : classify(core, error);
  core.countSettled(outcome, duration);
  const listeners = core.listeners;
  if (listeners !== undefined && listeners.has(outcome)) {
    outcomeHeard(core, listeners, outcome, error, ticket, duration);
  } else {
    tellCircuit(core, outcome, ticket, duration);
  }
  return outcome;
}

/** Tells the circuit how the call admitted with `ticket` ended. */
function tellCircuit(
  core: BreakerContext,
  outcome: Outcome,
  ticket: number,
  duration: number,
): void {
  if (outcome === 'failure') core.circuit.failure(ticket, duration);
  else if (outcome === 'success') core.circuit.success(ticket, duration);
  else core.circuit.release(ticket);
}

/**
 * A settled call with a listener for its `outcome`, out of line: the unheard paths of
 * `settleSuccess` and `settleError` stay small enough for V8 to inline where calls settle (bench
 * case 4: a larger body cost the time-window policy 32 B a call, its durations boxed). The event
 * and what the circuit makes of the outcome are one step (see Listeners.hold): the event first,
 * then what the circuit's reaction emits, delivered at the hold's end rather than queued when this
 * call holds. A success event carries no error.
 */
function outcomeHeard(
  core: BreakerContext,
  listeners: Listeners<BreakerEventMap>,
  outcome: Outcome,
  error: unknown,
  ticket: number,
  duration: number,
): void {
  const event = (
    outcome === 'success'
      ? { breaker: core.name, duration }
      : { breaker: core.name, error, duration }
  ) as SuccessEvent & FailureEvent;
  const held = listeners.hold();
  if (!held) listeners.emit(outcome, event);
  try {
    tellCircuit(core, outcome, ticket, duration);
  } finally {
    if (held) listeners.releaseWith(outcome, event);
  }
}

/**
 * A caller whose own signal aborted before its call could start: counted as ignored (the caller
 * left; the dependency was not called). Returns the signal's reason, the caller's rejection.
 */
export function settleAbandoned(core: BreakerContext, signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  core.countSettled('ignored', NaN);
  if (core.listeners?.has('ignored')) {
    core.listeners.emit('ignored', { breaker: core.name, error: reason, duration: NaN });
  }
  return reason;
}

/**
 * Settles an error from an admitted call, then answers with the fallback or fails: throws, or
 * with `asRejection` (a caller holding a promise) returns a rejection instead.
 */
export function afterError<T>(
  core: BreakerContext,
  error: unknown,
  ticket: number,
  start: number,
  options: CallOptions<T> | undefined,
  asRejection: boolean,
): T | PromiseLike<T> {
  const aborted = options?.signal?.aborted === true;
  const outcome = settleError(core, error, ticket, start, aborted);
  const allowed = outcome === 'failure' && core.options.fallbackOnFailure;
  return answerOrFail(core, error, options, allowed, asRejection);
}

/** The callbacks that settle a call admitted with `ticket`, started at `start`. */
export function settlersFor(
  core: BreakerContext,
  ticket: number,
  start: number,
  options: CallOptions<unknown> | undefined,
): Settlers {
  return {
    ticket,
    onValue: (value) => {
      settleSuccess(core, ticket, start);
      return value;
    },
    onError: (error) => afterError(core, error, ticket, start, options, true),
  };
}

/**
 * The settlers of untimed calls without options admitted with `ticket`: made once per
 * generation and shared by its calls, so that the hot path allocates no closure per call.
 */
export function sharedSettlers(core: BreakerContext, ticket: number): Settlers {
  const shared = core.settlers;
  if (shared !== undefined && shared.ticket === ticket) return shared;
  return (core.settlers = settlersFor(core, ticket, NaN, undefined));
}

/** Ends a running call: the one place its in-flight count and bulkhead slot are given back. */
function endCall(core: BreakerContext): void {
  core.callEnded();
  core.bulkhead?.leave();
}

function classify(core: BreakerContext, error: unknown): Outcome {
  const { ignore, isFailure } = core.options;
  if (ignore !== undefined) {
    try {
      if (ignore(error)) return 'ignored';
    } catch (thrown) {
      core.report(thrown, 'ignore');
      return 'failure';
    }
  }
  if (isFailure !== undefined) {
    try {
      return isFailure(error) ? 'failure' : 'success';
    } catch (thrown) {
      core.report(thrown, 'isFailure');
      return 'failure';
    }
  }
  return 'failure';
}
