import type { BreakerContext } from './breaker-context.js';
import { CircuitState, type RejectingState } from './circuit-state.js';
import {
  BreakerDisposedError,
  BulkheadRejectedError,
  type CircuitOpenError,
  createCircuitOpenError,
} from './errors.js';
import { answerOrFail } from './fallback.js';
import type { CallOptions } from './options.js';
import { settleAbandoned } from './outcomes.js';
import {
  ACQUIRE_ASYNC,
  REJECTED_FORCED_OPEN,
  REJECTED_HALF_OPEN,
  REJECTED_OPEN,
} from './store/circuit-store.js';
import { rejectionWith } from './thenable.js';
import { waitForVerdict } from './verdict-waiters.js';
import type { Protected } from './timed-call.js';
import { describeValue } from './describe.js';

/** Runs an admitted call (the breaker's hot path, passed in: it lives in breaker.ts). */
export type Invoke = <T>(
  core: BreakerContext,
  fn: Protected<T>,
  ticket: number,
  options: CallOptions<T> | undefined,
) => Promise<T>;

/** `admitSlowly` result: the caller's own signal aborted while it waited. */
const ABANDONED = -100;

/*
 * Decides whether a call may run, when the hot path (a CLOSED circuit admitting at once) does not:
 * the checks made before anything else, a full bulkhead and its queue, the circuit's answer from a
 * store asked asynchronously or after waiting for the half-open verdict, and refusals: their
 * error, their count, and the fallback that may answer them. An admitted call goes back to the
 * breaker's `invoke`.
 *
 * Package-internal: functions on a breaker's context.
 */

/**
 * Runs a call refused with `ticket` by a first `tryAcquire` (or asks the circuit now): invokes it
 * once admitted, or refuses it. With a bulkhead the caller holds a slot, which the call gives back
 * when it settles, or at once if it is refused.
 */
export function admitAndInvoke<T>(
  core: BreakerContext,
  invoke: Invoke,
  fn: Protected<T>,
  options: CallOptions<T> | undefined,
  ticket = core.circuit.tryAcquire(),
): Promise<T> {
  if (ticket >= 0) return invoke(core, fn, ticket, options);
  if (ticket === ACQUIRE_ASYNC || mayWaitForVerdict(core, ticket)) {
    return invokeOnceAdmitted(core, invoke, fn, ticket, options);
  }
  core.bulkhead?.leave();
  return refuse(core, ticket, options);
}

/** `execute` with a bulkhead: takes a slot (or waits for one, or refuses), then admits the call. */
export async function runInBulkhead<T>(
  core: BreakerContext,
  invoke: Invoke,
  fn: Protected<T>,
  options: CallOptions<T> | undefined,
): Promise<T> {
  const refused = precheck(core, fn, options);
  if (refused !== undefined) throw refused;
  const signal = options?.signal;
  if (signal?.aborted) return abandon(core, signal);
  const bulkhead = core.bulkhead!;
  if (!bulkhead.tryEnter()) {
    // Fail fast rather than queue behind a circuit that would reject the call anyway.
    const code = refusalBeforeQueueing(core);
    if (code !== undefined) return reject(core, code, options) as T;
    if (!bulkhead.canWait()) return rejectByBulkhead(core, options) as T;
    const entered = await bulkhead.enter(signal);
    if (entered === 'cancelled') throw new BreakerDisposedError(core.name);
    if (entered === 'aborted') return abandon(core, signal!);
    if (core.disposed) {
      bulkhead.leave();
      throw new BreakerDisposedError(core.name);
    }
  }
  return admitAndInvoke(core, invoke, fn, options);
}

/**
 * Answers a caller whose own signal aborted before its call could start: counted as ignored (the
 * caller left; the dependency was not called), rejected with the signal's reason.
 */
export function abandon<T>(core: BreakerContext, signal: AbortSignal): Promise<T> {
  return Promise.resolve(rejectionWith(settleAbandoned(core, signal)));
}

/**
 * Why `execute`/`executeSync` refuse a call before anything else, if they do: the breaker was
 * disposed, `fn` is not a function, or the call options are invalid. Such a call is not counted.
 */
export function precheck(
  core: BreakerContext,
  fn: unknown,
  options: CallOptions<unknown> | undefined,
): Error | undefined {
  if (core.disposed) return new BreakerDisposedError(core.name);
  if (typeof fn !== 'function') {
    return new TypeError(
      `Circuit breaker "${core.name}": execute expects a function, received ${describeValue(fn)}`,
    );
  }
  return options === undefined ? undefined : invalidCallOptions(core.name, options);
}

/** Counts a circuit refusal; returns its `CircuitOpenError`. */
export function refusal(core: BreakerContext, code: number): CircuitOpenError {
  return counted(core, rejectionError(core, code));
}

/** Counts a bulkhead refusal; returns its `BulkheadRejectedError`. */
export function bulkheadRefusal(core: BreakerContext): BulkheadRejectedError {
  const bulkhead = core.bulkhead!;
  return counted(
    core,
    new BulkheadRejectedError(core.name, bulkhead.maxConcurrent, bulkhead.maxQueue),
  );
}

/** Counts a circuit refusal, then answers with the fallback or throws the `CircuitOpenError`. */
export function reject<T>(
  core: BreakerContext,
  code: number,
  options: CallOptions<T> | undefined,
): T | PromiseLike<T> {
  return answerOrFail(core, refusal(core, code), options, true, false);
}

/** Counts a bulkhead refusal, then answers with the fallback or throws its error. */
export function rejectByBulkhead<T>(
  core: BreakerContext,
  options: CallOptions<T> | undefined,
): T | PromiseLike<T> {
  return answerOrFail(core, bulkheadRefusal(core), options, true, false);
}

/** `reject` for a caller holding a promise: never throws, rejects instead. */
function refuse<T>(
  core: BreakerContext,
  code: number,
  options: CallOptions<T> | undefined,
): Promise<T> {
  return Promise.resolve(answerOrFail(core, refusal(core, code), options, true, true));
}

/** Admits a call the slow way (see `admitSlowly`), then runs it or refuses it. */
async function invokeOnceAdmitted<T>(
  core: BreakerContext,
  invoke: Invoke,
  fn: Protected<T>,
  ticket: number,
  options: CallOptions<T> | undefined,
): Promise<T> {
  const bulkhead = core.bulkhead;
  try {
    ticket = await admitSlowly(core, ticket, options?.signal);
  } catch (error) {
    bulkhead?.leave();
    throw error;
  }
  const signal = options?.signal;
  if (ticket >= 0 && signal?.aborted) {
    // The caller left while the store decided: give the slot back unused.
    core.circuit.release(ticket);
    ticket = ABANDONED;
  }
  if (ticket >= 0) return invoke(core, fn, ticket, options);
  bulkhead?.leave();
  if (ticket === ABANDONED) return abandon(core, signal!);
  return refuse(core, ticket, options);
}

/**
 * The slow road to admission: a store that must be asked asynchronously, and waiting (bounded by
 * `halfOpenWaitTimeout`) for the half-open probes' verdict. Returns a ticket, a rejection, or
 * {@link ABANDONED}.
 */
async function admitSlowly(
  core: BreakerContext,
  ticket: number,
  signal: AbortSignal | undefined,
): Promise<number> {
  if (ticket === ACQUIRE_ASYNC) ticket = await acquireFromStore(core);
  if (!mayWaitForVerdict(core, ticket) || core.disposed) return ticket;
  const deadline = core.now() + core.options.halfOpenWaitTimeout;
  for (;;) {
    const wake = await waitForVerdict(core, deadline - core.now(), signal);
    if (core.disposed) throw new BreakerDisposedError(core.name);
    if (wake === 'aborted') return ABANDONED;
    ticket = core.circuit.tryAcquire();
    if (ticket === ACQUIRE_ASYNC) ticket = await acquireFromStore(core);
    // Woken because a probe slot came free, and someone else took it first: wait on, for the
    // rest of the wait.
    if (wake !== 'slot' || ticket !== REJECTED_HALF_OPEN || core.now() >= deadline) {
      return ticket;
    }
  }
}

/**
 * A call found the bulkhead full: the circuit's refusal code if it would refuse the call anyway
 * (so the call fails fast rather than queue), otherwise `undefined`.
 */
function refusalBeforeQueueing(core: BreakerContext): number | undefined {
  const circuit = core.circuit;
  const state = circuit.state();
  if (state === CircuitState.Open) return REJECTED_OPEN;
  if (state === CircuitState.ForcedOpen) return REJECTED_FORCED_OPEN;
  if (state === CircuitState.HalfOpen && core.options.halfOpenWaitTimeout === 0) {
    // Every probe slot taken: the circuit refuses at once, as it would with a free bulkhead.
    const ticket = circuit.tryAcquire();
    if (ticket === REJECTED_HALF_OPEN) return ticket;
    if (ticket >= 0) circuit.release(ticket);
  }
  return undefined;
}

function mayWaitForVerdict(core: BreakerContext, ticket: number): boolean {
  return ticket === REJECTED_HALF_OPEN && core.options.halfOpenWaitTimeout > 0;
}

async function acquireFromStore(core: BreakerContext): Promise<number> {
  try {
    return await core.circuit.acquire!();
  } catch (error) {
    // A store that cannot decide must not lose the call or crash the caller: treat it as a full
    // half-open (the call is rejected and may be retried) and report the store's error.
    core.report(error, 'store');
    return REJECTED_HALF_OPEN;
  }
}

/**
 * The `CircuitOpenError` for refusal `code`: OPEN, FORCED_OPEN, or otherwise HALF_OPEN (every probe
 * slot taken, or `ACQUIRE_ASYNC` from a store that decides only asynchronously, which synchronous
 * callers cannot wait for).
 */
function rejectionError(core: BreakerContext, code: number): CircuitOpenError {
  const state: RejectingState =
    code === REJECTED_OPEN
      ? CircuitState.Open
      : code === REJECTED_FORCED_OPEN
        ? CircuitState.ForcedOpen
        : CircuitState.HalfOpen;
  // Half-open means "probes are running, try again soon": 0, whatever the circuit did since.
  const retryAfter =
    state === CircuitState.ForcedOpen
      ? undefined
      : state === CircuitState.HalfOpen
        ? 0
        : (core.circuit.retryAfter() ?? 0);
  return createCircuitOpenError(core.name, state, retryAfter, core.options.rejectionStackTraces);
}

function counted<E extends CircuitOpenError | BulkheadRejectedError>(
  core: BreakerContext,
  error: E,
): E {
  const reason =
    error instanceof BulkheadRejectedError ? 'bulkhead' : (error as CircuitOpenError).reason;
  core.countRejection(reason);
  if (core.listeners?.has('rejection')) {
    core.listeners.emit('rejection', { breaker: core.name, reason, error });
  }
  return error;
}

/** A `TypeError` naming what is wrong with `options`, or `undefined` if they are valid. */
function invalidCallOptions(name: string, options: CallOptions<unknown>): TypeError | undefined {
  if (typeof options !== 'object' || options === null) {
    return invalidCallOption(name, 'options', 'an object', options);
  }
  const { signal, args } = options;
  if (
    signal !== undefined &&
    (typeof signal !== 'object' ||
      signal === null ||
      typeof signal.aborted !== 'boolean' ||
      typeof signal.addEventListener !== 'function' ||
      typeof signal.removeEventListener !== 'function')
  ) {
    return invalidCallOption(name, 'signal', 'an AbortSignal', signal);
  }
  if (args !== undefined && !Array.isArray(args)) {
    return invalidCallOption(name, 'args', 'an array', args);
  }
  return undefined;
}

function invalidCallOption(
  name: string,
  option: string,
  expected: string,
  value: unknown,
): TypeError {
  return new TypeError(
    `Circuit breaker "${name}": call option "${option}" must be ${expected}, received ${describeValue(value)}`,
  );
}
