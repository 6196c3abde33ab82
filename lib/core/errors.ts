import type { RejectingState } from './circuit-state.js';

/**
 * Every error this package throws carries this symbol on its prototype, with the error's kind as
 * the value. `Symbol.for` makes the brand the same in every copy of the package, so the guards below
 * work when two versions are installed side by side.
 */
const BRAND = Symbol.for('nestjs-circuit-breaker.error');

type ErrorKind =
  | 'CircuitOpenError'
  | 'BulkheadRejectedError'
  | 'CallTimeoutError'
  | 'BreakerDisposedError'
  | 'BreakerOptionsError';

function brand(ctor: { prototype: object; name: string }, kind: ErrorKind): void {
  Object.defineProperty(ctor.prototype, BRAND, { value: kind });
  Object.defineProperty(ctor.prototype, 'name', {
    value: kind,
    writable: true,
    configurable: true,
  });
}

function hasBrand(value: unknown, kind: ErrorKind): boolean {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    (value as { [BRAND]?: unknown })[BRAND] === kind
  );
}

/** Why a call was rejected without reaching the protected function. */
export type RejectionReason = 'open' | 'half-open' | 'forced-open' | 'bulkhead';

function openMessage(
  breakerName: string,
  state: RejectingState,
  retryAfter: number | undefined,
): string {
  return state === 'OPEN'
    ? `Circuit breaker "${breakerName}" is open; retry in ${Math.ceil(retryAfter ?? 0)} ms`
    : state === 'HALF_OPEN'
      ? `Circuit breaker "${breakerName}" is half-open and all probe calls are taken`
      : `Circuit breaker "${breakerName}" is isolated (forced open) until it is reset`;
}

/**
 * A call was rejected because the circuit is open, held open, or half-open with every probe slot
 * taken. The protected function was not called.
 *
 * Rejections are frequent, normal events, so by default a breaker makes this error without running
 * the `Error` constructor (which costs about half a microsecond even without a stack): it is an
 * instance of `CircuitOpenError` and of `Error`, with `message`, `name` and a one-line `stack`, but
 * `util.types.isNativeError()` is false for it. Set the breaker option `rejectionStackTraces: true`
 * for native errors with a stack trace.
 */
export class CircuitOpenError extends Error {
  /** The name of the breaker that rejected the call. */
  readonly breakerName: string;
  /** The state the circuit was in. */
  readonly state: RejectingState;
  /**
   * Milliseconds until the circuit lets a probe through: the rest of the open period when `OPEN`,
   * `0` when `HALF_OPEN` (probes are under way), `undefined` when `FORCED_OPEN` (only `reset()`
   * ends it).
   */
  readonly retryAfter: number | undefined;

  constructor(breakerName: string, state: RejectingState, retryAfter: number | undefined) {
    super(openMessage(breakerName, state, retryAfter));
    this.breakerName = breakerName;
    this.state = state;
    this.retryAfter = retryAfter;
  }

  /** Why the call was rejected, as reported in rejection events. */
  get reason(): Exclude<RejectionReason, 'bulkhead'> {
    return this.state === 'OPEN'
      ? 'open'
      : this.state === 'HALF_OPEN'
        ? 'half-open'
        : 'forced-open';
  }
}
brand(CircuitOpenError, 'CircuitOpenError');
// The light instances made by createCircuitOpenError have no own `message` or `stack`: these
// accessors compute them on demand. A native instance's own properties take precedence.
Object.defineProperty(CircuitOpenError.prototype, 'message', {
  get(this: CircuitOpenError) {
    return openMessage(this.breakerName, this.state, this.retryAfter);
  },
  configurable: true,
});
Object.defineProperty(CircuitOpenError.prototype, 'stack', {
  get(this: CircuitOpenError) {
    return `${this.name}: ${this.message}`;
  },
  configurable: true,
});

/**
 * A call was rejected by the breaker's bulkhead: `maxConcurrent` calls were running and the queue
 * (`maxQueue`) was full. This says nothing about the dependency's health and is not counted as a
 * failure.
 */
export class BulkheadRejectedError extends Error {
  /** The name of the breaker that rejected the call. */
  readonly breakerName: string;
  /** The breaker's `maxConcurrent`. */
  readonly maxConcurrent: number;
  /** The breaker's `maxQueue`. */
  readonly maxQueue: number;

  constructor(breakerName: string, maxConcurrent: number, maxQueue: number) {
    super(
      `Circuit breaker "${breakerName}" is at its concurrency limit (${maxConcurrent} running, ${maxQueue} queued)`,
    );
    this.breakerName = breakerName;
    this.maxConcurrent = maxConcurrent;
    this.maxQueue = maxQueue;
  }
}
brand(BulkheadRejectedError, 'BulkheadRejectedError');

/**
 * A call ran longer than the breaker's `timeout`. The call's `AbortSignal` is aborted with this
 * error as its reason, and the call is counted once, as a timeout.
 */
export class CallTimeoutError extends Error {
  /** The name of the breaker whose timeout fired. */
  readonly breakerName: string;
  /** The timeout that fired, in milliseconds. */
  readonly timeout: number;

  constructor(breakerName: string, timeout: number) {
    super(`Call through circuit breaker "${breakerName}" timed out after ${timeout} ms`);
    this.breakerName = breakerName;
    this.timeout = timeout;
  }
}
brand(CallTimeoutError, 'CallTimeoutError');

/** A call was made on, or was waiting in, a breaker that has been disposed. */
export class BreakerDisposedError extends Error {
  /** The name of the disposed breaker. */
  readonly breakerName: string;

  constructor(breakerName: string) {
    super(`Circuit breaker "${breakerName}" has been disposed`);
    this.breakerName = breakerName;
  }
}
brand(BreakerDisposedError, 'BreakerDisposedError');

/**
 * An option was invalid. Thrown when a breaker is constructed (or a Nest module starts), never
 * during a call. The message names the breaker, the option, what was expected and what was received.
 */
export class BreakerOptionsError extends Error {
  /** The breaker whose options are invalid (`"<unnamed>"` if the name itself is missing). */
  readonly breakerName: string;
  /** The option at fault, as a path (`"backoff.multiplier"`). */
  readonly option: string;
  /** What the option accepts. */
  readonly expected: string;
  /** A description of the value received. */
  readonly received: string;

  constructor(breakerName: string, option: string, expected: string, received: string) {
    super(
      `Circuit breaker "${breakerName}": option "${option}" must be ${expected}, received ${received}`,
    );
    this.breakerName = breakerName;
    this.option = option;
    this.expected = expected;
    this.received = received;
  }
}
brand(BreakerOptionsError, 'BreakerOptionsError');

/** Whether `error` is a {@link CircuitOpenError} from any copy of this package. */
export function isCircuitOpenError(error: unknown): error is CircuitOpenError {
  return hasBrand(error, 'CircuitOpenError');
}

/** Whether `error` is a {@link BulkheadRejectedError} from any copy of this package. */
export function isBulkheadRejectedError(error: unknown): error is BulkheadRejectedError {
  return hasBrand(error, 'BulkheadRejectedError');
}

/** Whether `error` is a {@link CallTimeoutError} from any copy of this package. */
export function isCallTimeoutError(error: unknown): error is CallTimeoutError {
  return hasBrand(error, 'CallTimeoutError');
}

/** Whether `error` is a {@link BreakerDisposedError} from any copy of this package. */
export function isBreakerDisposedError(error: unknown): error is BreakerDisposedError {
  return hasBrand(error, 'BreakerDisposedError');
}

/** Whether `error` is a {@link BreakerOptionsError} from any copy of this package. */
export function isBreakerOptionsError(error: unknown): error is BreakerOptionsError {
  return hasBrand(error, 'BreakerOptionsError');
}

/**
 * Whether `error` means the breaker refused the call without running it (circuit open, bulkhead
 * full, or breaker disposed), as opposed to an error from the protected function.
 */
export function isRejection(
  error: unknown,
): error is CircuitOpenError | BulkheadRejectedError | BreakerDisposedError {
  return (
    isCircuitOpenError(error) || isBulkheadRejectedError(error) || isBreakerDisposedError(error)
  );
}

/**
 * Creates a `CircuitOpenError`: a native one with a stack trace when `withStack` is true, otherwise
 * a light instance made from the prototype, without running the `Error` constructor (see
 * {@link CircuitOpenError}).
 */
export function createCircuitOpenError(
  breakerName: string,
  state: RejectingState,
  retryAfter: number | undefined,
  withStack: boolean,
): CircuitOpenError {
  if (withStack) return new CircuitOpenError(breakerName, state, retryAfter);
  const error = Object.create(CircuitOpenError.prototype) as {
    breakerName: string;
    state: RejectingState;
    retryAfter: number | undefined;
  };
  error.breakerName = breakerName;
  error.state = state;
  error.retryAfter = retryAfter;
  return error as CircuitOpenError;
}
