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

/** An `RpcException` / `WsException` (or the mapper's stand-in), from any copy of the package. */
interface ErrorPayloadExceptionLike {
  getError(): unknown;
}

function isErrorPayloadException(value: unknown): value is ErrorPayloadExceptionLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<ErrorPayloadExceptionLike>).getError === 'function'
  );
}

/** The error a client receives for `exception`: its object as is, anything else as a message. */
function errorOf(exception: ErrorPayloadExceptionLike): unknown {
  const error = exception.getError();
  return typeof error === 'object' && error !== null ? error : { status: 'error', message: error };
}

/** A socket.io socket or a `ws` WebSocket, as Nest's own `BaseWsExceptionFilter` tells them. */
interface WsClientLike {
  readyState?: unknown;
  send?: (data: string) => void;
  emit?: (event: string, data: unknown) => void;
}

function emitException(client: unknown, payload: unknown): void {
  const socket = (client ?? {}) as WsClientLike;
  if (typeof socket.readyState === 'number' && typeof socket.send === 'function') {
    socket.send(JSON.stringify({ event: 'exception', data: payload }));
  } else if (typeof socket.emit === 'function') {
    socket.emit('exception', payload);
  }
}

/**
 * Answers an error thrown when a breaker refused a call (`CircuitOpenError`, and also
 * `BulkheadRejectedError` and `BreakerDisposedError`) the way the context's transport expects, as
 * the {@link CircuitBreakerRejectionMapper} (the one the module provides, or `mapper`) decides,
 * without logging anything (refusals are normal events, counted by the breaker):
 *
 * - HTTP: `503 Service Unavailable` with a `Retry-After` header in whole seconds (at least 1;
 *   omitted for a circuit held open by hand or a full bulkhead). The body is Nest's standard
 *   `ServiceUnavailableException` body: breaker names are not revealed to clients. Works on
 *   Express and Fastify.
 * - Microservices: the `RpcException`'s error as the error the client receives (as Nest's RPC
 *   filter does), over TCP, gRPC and the other transports.
 * - WebSockets: an `exception` event whose data is the `WsException`'s error.
 * - GraphQL and other contexts: the mapped error is thrown on to the framework.
 *
 * Register it globally with `CircuitBreakerModule.forRoot({ httpErrorFilter: true })` (every
 * context, despite the name), with
 * `app.useGlobalFilters(new CircuitOpenExceptionFilter(app.get(HttpAdapterHost)))`, or per
 * controller, gateway or resolver with `@UseFilters(CircuitOpenExceptionFilter)`.
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
    switch (host.getType<string>()) {
      case 'http':
        return this.reply(mapped, host);
      case 'rpc':
        // What Nest's RPC filter sends for an RpcException, without its error log for the rest.
        return throwError(() => (isErrorPayloadException(mapped) ? errorOf(mapped) : mapped));
      case 'ws':
        if (!isErrorPayloadException(mapped)) throw mapped;
        emitException(host.switchToWs().getClient(), errorOf(mapped));
        return undefined;
      default:
        throw mapped;
    }
  }

  private reply(mapped: unknown, host: ArgumentsHost): unknown {
    if (!isHttpExceptionLike(mapped)) throw mapped;
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
