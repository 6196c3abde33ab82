import { type ExecutionContext, Logger } from '@nestjs/common';
import { catchError, EMPTY, isObservable, type Observable } from 'rxjs';
import { isRejection } from '../core/internal.js';
import type { CircuitBreakerMetadata } from '../interfaces/circuit-breaker-metadata.interface.js';

/**
 * The metadata keys `@nestjs/schedule` (`@Cron`, `@Interval`, `@Timeout`) and
 * `@nestjs/event-emitter` (`@OnEvent`) write on a method. Strings, so neither package is imported.
 */
const JOB_METADATA_KEYS = [
  'SCHEDULE_CRON_OPTIONS',
  'SCHEDULE_INTERVAL_OPTIONS',
  'SCHEDULE_TIMEOUT_OPTIONS',
  'EVENT_LISTENER_METADATA',
] as const;

/** `@nestjs/microservices`' `PATTERN_HANDLER_METADATA`, and its `PatternHandler.EVENT`. */
const PATTERN_HANDLER_METADATA = 'microservices:handler_type';
const EVENT_HANDLER = 2;

const logger = new Logger('CircuitBreaker');

/** Whether `method` is run by a scheduler or an event emitter rather than called by code. */
export function isJobHandler(method: object): boolean {
  return JOB_METADATA_KEYS.some((key) => Reflect.hasOwnMetadata(key, method));
}

function skipped(metadata: CircuitBreakerMetadata, error: unknown): undefined {
  logger.debug(
    `${metadata.className}.${metadata.methodName} skipped: breaker "${metadata.name}" refused the run (${(error as Error).message})`,
  );
  return undefined;
}

/**
 * Whether `error` is a refusal met by a microservice `@EventPattern` handler, which has nobody to
 * answer: Nest would log any exception there as an error. When it is, logs it at debug level (the
 * breaker has counted it as a rejection already), and the caller skips the event quietly.
 */
export function skipsRefusedEvent(error: unknown, context: ExecutionContext): boolean {
  if (context.getType<string>() !== 'rpc' || !isRejection(error)) return false;
  const handler = context.getHandler();
  if (Reflect.getMetadata(PATTERN_HANDLER_METADATA, handler) !== EVENT_HANDLER) return false;
  logger.debug(
    `${context.getClass().name}.${handler.name} skipped an event: ${(error as Error).message}`,
  );
  return true;
}

/**
 * Wraps a guarded method so that, when it is a scheduled job or an event handler (see
 * {@link isJobHandler}: read at the first call, since `@Cron` or `@OnEvent` may be applied after
 * `@CircuitBreaker`), a run the breaker refuses (after any fallback) is skipped quietly: it
 * returns `undefined` (a resolved promise, an empty Observable) and logs at debug level, instead of
 * reaching the scheduler's or emitter's error log on every tick. The breaker has counted it as a
 * rejection already. Any other error, and every call of a method that is not a job, is untouched.
 */
export function skipRefusedJobRuns(
  guard: (...args: unknown[]) => unknown,
  metadata: CircuitBreakerMetadata,
): (...args: unknown[]) => unknown {
  // Decided at the first call: every decorator has run by then (they run when the class is made).
  let job: boolean | undefined;
  return function circuitBreakerGuard(this: unknown, ...args: unknown[]): unknown {
    job ??= isJobHandler(circuitBreakerGuard);
    if (!job) return guard.apply(this, args);
    let result: unknown;
    try {
      result = guard.apply(this, args);
    } catch (error) {
      if (isRejection(error)) return skipped(metadata, error);
      throw error;
    }
    if (result instanceof Promise) {
      return result.catch((error: unknown) => {
        if (isRejection(error)) return skipped(metadata, error);
        throw error;
      });
    }
    if (isObservable(result)) {
      return (result as Observable<unknown>).pipe(
        catchError((error: unknown) => {
          if (isRejection(error)) {
            skipped(metadata, error);
            return EMPTY;
          }
          throw error;
        }),
      );
    }
    return result;
  };
}
