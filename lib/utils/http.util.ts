import { isRejection } from '../core/internal.js';

function asStatus(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 599
    ? value
    : undefined;
}

/**
 * The HTTP status an error carries, from the shapes that common clients and frameworks throw, in
 * this order (the first that holds a status from 100 to 599 wins):
 *
 * 1. `error.getStatus()`: Nest's `HttpException` and its subclasses (from any copy of
 *    `@nestjs/common`);
 * 2. `error.response.status`: axios and `@nestjs/axios` (`AxiosError`), ky and ofetch
 *    (`HTTPError` / `FetchError`), superagent;
 * 3. `error.response.statusCode`: got (`HTTPError`);
 * 4. `error.status`: axios 1.7+, ofetch, superagent, `http-errors`, undici's
 *    `ResponseStatusCodeError`;
 * 5. `error.statusCode`: undici's `ResponseStatusCodeError`, `http-errors`, Fastify's errors.
 *
 * Anything else (a network error, a timeout, an error without a status) has none.
 */
export function httpStatusOf(error: unknown): number | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const e = error as {
    getStatus?: unknown;
    response?: { status?: unknown; statusCode?: unknown } | null;
    status?: unknown;
    statusCode?: unknown;
  };
  try {
    if (typeof e.getStatus === 'function') {
      const status = asStatus((e.getStatus as () => unknown).call(error));
      if (status !== undefined) return status;
    }
    const response = typeof e.response === 'object' && e.response !== null ? e.response : {};
    return (
      asStatus(response.status) ??
      asStatus(response.statusCode) ??
      asStatus(e.status) ??
      asStatus(e.statusCode)
    );
  } catch {
    // A getter or getStatus() that throws: the error says nothing reliable about a status.
    return undefined;
  }
}

/**
 * Statuses in the 4xx range that are the dependency's condition rather than the caller's fault:
 * `408 Request Timeout` and `429 Too Many Requests`. They count as failures, as they do in Polly's
 * and Microsoft.Extensions.Http.Resilience's transient-error predicates.
 */
const TRANSIENT_CLIENT_STATUSES: ReadonlySet<number> = new Set([408, 429]);

/**
 * Whether `error` carries a 4xx HTTP status (see {@link httpStatusOf} for the shapes recognised),
 * other than 408 and 429: the caller's fault, not the dependency's.
 */
export function isHttpClientError(error: unknown): boolean {
  const status = httpStatusOf(error);
  return (
    status !== undefined && status >= 400 && status < 500 && !TRANSIENT_CLIENT_STATUSES.has(status)
  );
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
