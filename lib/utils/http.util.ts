import { isRejection } from '../core/index.js';

/** Whether `error` looks like a Nest `HttpException` (duck-typed: it has a `getStatus()` method). */
function httpStatusOf(error: unknown): number | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const getStatus = (error as { getStatus?: unknown }).getStatus;
  if (typeof getStatus !== 'function') return undefined;
  try {
    const status: unknown = getStatus.call(error);
    return typeof status === 'number' ? status : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `error` is an `HttpException`-like error with a 4xx status: the caller's fault, not the
 * dependency's. Duck-typed so that exceptions from another copy of `@nestjs/common` count too.
 */
export function isHttpClientError(error: unknown): boolean {
  const status = httpStatusOf(error);
  return status !== undefined && status >= 400 && status < 500;
}

/**
 * The `Retry-After` value, in whole seconds (at least 1), for an error that refused a call; or
 * `undefined` when there is no sensible value (a circuit held open by hand, a full bulkhead).
 */
export function retryAfterSeconds(error: unknown): number | undefined {
  if (!isRejection(error)) return undefined;
  const retryAfter = (error as { retryAfter?: unknown }).retryAfter;
  if (typeof retryAfter !== 'number' || !Number.isFinite(retryAfter)) return undefined;
  return Math.max(1, Math.ceil(retryAfter / 1_000));
}
