import { type ArgumentsHost, Catch, type ExceptionFilter, Inject, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { throwError } from 'rxjs';
import { isRejection } from './core/internal.js';
import { CircuitBreakerRejectionMapper } from './circuit-breaker-rejection.mapper.js';
import { replyWith } from './utils/http-response.util.js';

/**
 * Matches a refused call's error from any copy of this package (`instanceof` would not): Nest's
 * `@Catch()` tests exceptions with `instanceof`, which consults `Symbol.hasInstance`.
 */
class RejectionMatcher {
  static [Symbol.hasInstance](value: unknown): boolean {
    return isRejection(value);
  }
}

/** An `HttpException`, from any copy of `@nestjs/common`. */
interface HttpExceptionLike {
  getStatus(): number;
  getResponse(): unknown;
}

function isHttpExceptionLike(value: unknown): value is HttpExceptionLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<HttpExceptionLike>).getStatus === 'function' &&
    typeof (value as Partial<HttpExceptionLike>).getResponse === 'function'
  );
}

/**
 * Maps an error thrown when a breaker refused a call (`CircuitOpenError`, and also
 * `BulkheadRejectedError` and `BreakerDisposedError`) to `503 Service Unavailable` with a
 * `Retry-After` header in whole seconds (at least 1; omitted for a circuit held open by hand or a
 * full bulkhead). The body is Nest's standard `ServiceUnavailableException` body: breaker names are
 * not revealed to clients. Works on Express and Fastify.
 *
 * Register it globally with `CircuitBreakerModule.forRoot({ httpErrorFilter: true })`, with
 * `app.useGlobalFilters(new CircuitOpenExceptionFilter(app.get(HttpAdapterHost)))`, or per
 * controller with `@UseFilters(CircuitOpenExceptionFilter)`. Outside HTTP it hands the error back
 * (as an error Observable for microservices). What the error becomes in each context is the
 * {@link CircuitBreakerRejectionMapper}'s decision (the one the module provides, or `mapper`).
 * @publicApi
 */
@Catch(RejectionMatcher)
export class CircuitOpenExceptionFilter implements ExceptionFilter {
  private readonly mapper: CircuitBreakerRejectionMapper;

  constructor(
    @Optional() @Inject(HttpAdapterHost) private readonly adapterHost?: HttpAdapterHost,
    @Optional() @Inject(CircuitBreakerRejectionMapper) mapper?: CircuitBreakerRejectionMapper,
  ) {
    this.mapper = mapper ?? new CircuitBreakerRejectionMapper(adapterHost);
  }

  catch(error: unknown, host: ArgumentsHost): unknown {
    const mapped = this.mapper.map(error, host);
    const type = host.getType<string>();
    if (type === 'rpc') return throwError(() => mapped);
    if (type !== 'http' || !isHttpExceptionLike(mapped)) throw mapped;
    // Without the adapter (`new CircuitOpenExceptionFilter()`), the response is written directly.
    const response: unknown = host.switchToHttp().getResponse();
    return replyWith(
      this.adapterHost?.httpAdapter,
      response,
      mapped.getResponse(),
      mapped.getStatus(),
    );
  }
}
