import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  Inject,
  Optional,
  ServiceUnavailableException,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { throwError } from 'rxjs';
import { isRejection } from './core/index.js';
import { retryAfterSeconds } from './utils/http.util.js';

/**
 * Matches a refused call's error from any copy of this package (`instanceof` would not): Nest's
 * `@Catch()` tests exceptions with `instanceof`, which consults `Symbol.hasInstance`.
 */
class CircuitBreakerRejection {
  static [Symbol.hasInstance](value: unknown): boolean {
    return isRejection(value);
  }
}

interface ResponseLike {
  headersSent?: boolean;
  sent?: boolean;
  setHeader?(name: string, value: string): unknown;
  header?(name: string, value: string): unknown;
  status?(code: number): ResponseLike;
  code?(code: number): ResponseLike;
  json?(body: unknown): unknown;
  send?(body: unknown): unknown;
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
 * unchanged (as an error Observable for microservices).
 * @publicApi
 */
@Catch(CircuitBreakerRejection)
export class CircuitOpenExceptionFilter implements ExceptionFilter {
  constructor(
    @Optional() @Inject(HttpAdapterHost) private readonly adapterHost?: HttpAdapterHost,
  ) {}

  catch(error: unknown, host: ArgumentsHost): unknown {
    const type = host.getType<string>();
    if (type === 'rpc') return throwError(() => error);
    if (type !== 'http') throw error;
    const response = host.switchToHttp().getResponse<ResponseLike>();
    const body = new ServiceUnavailableException().getResponse();
    const seconds = retryAfterSeconds(error);
    const adapter = this.adapterHost?.httpAdapter;
    if (adapter !== undefined) {
      if (adapter.isHeadersSent(response)) return adapter.end(response);
      if (seconds !== undefined) adapter.setHeader(response, 'Retry-After', String(seconds));
      return adapter.reply(response, body, 503);
    }
    // Registered with `new CircuitOpenExceptionFilter()`, without the adapter: use the response.
    if (response.headersSent === true || response.sent === true) return undefined;
    if (seconds !== undefined) {
      if (typeof response.setHeader === 'function')
        response.setHeader('Retry-After', String(seconds));
      else response.header?.('Retry-After', String(seconds));
    }
    const withStatus =
      typeof response.code === 'function' ? response.code(503) : response.status?.(503);
    if (typeof withStatus?.json === 'function') return withStatus.json(body);
    return withStatus?.send?.(body);
  }
}
