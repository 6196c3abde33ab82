import {
  type ArgumentsHost,
  Inject,
  Injectable,
  Optional,
  ServiceUnavailableException,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  type BreakerDisposedError,
  type BulkheadRejectedError,
  type CircuitOpenError,
  isRejection,
} from './core/internal.js';
import { retryAfterSeconds } from './utils/http.util.js';
import { type HttpAdapter, setResponseHeader } from './utils/http-response.util.js';

/**
 * An error a breaker refused a call with, without running it: an open circuit
 * (`CircuitOpenError`), a full bulkhead (`BulkheadRejectedError`) or a breaker disposed by
 * shutdown (`BreakerDisposedError`). Recognised with `isRejection()`.
 * @publicApi
 */
export type CircuitBreakerRejection =
  CircuitOpenError | BulkheadRejectedError | BreakerDisposedError;

/**
 * Turns a refused call's error into what the caller's transport should see. Both
 * `CircuitOpenExceptionFilter` and `CircuitBreakerInterceptor` ask it, so a transport's answer is
 * written once. {@link map} picks a `protected` hook by the context type (`host.getType()`); any
 * other error is handed back unchanged.
 *
 * - `http`: `503 Service Unavailable` (a `ServiceUnavailableException` whose `cause` is the
 *   refusal; the body names no breaker), with a `Retry-After` header in whole seconds (at least 1;
 *   none for a circuit held open by hand or a full bulkhead), on Express and Fastify.
 * - `rpc`, `ws`, `graphql`: the refusal unchanged, for now.
 *
 * To answer another way, extend it and override one hook, as with `ThrottlerGuard`'s
 * `throwThrottlingException`:
 *
 * ```ts
 * @Injectable()
 * export class GraphqlRejectionMapper extends CircuitBreakerRejectionMapper {
 *   protected override mapGraphql(error: CircuitBreakerRejection): unknown {
 *     return new GraphQLError('Service unavailable', { extensions: { code: 'UNAVAILABLE' } });
 *   }
 * }
 * ```
 *
 * then provide it in place of this one (`{ provide: CircuitBreakerRejectionMapper, useClass:
 * GraphqlRejectionMapper }` in the module of the controllers or resolvers), or hand it to the
 * filter: `new CircuitOpenExceptionFilter(adapterHost, new GraphqlRejectionMapper(adapterHost))`.
 * @publicApi
 */
@Injectable()
export class CircuitBreakerRejectionMapper {
  constructor(
    @Optional() @Inject(HttpAdapterHost) protected readonly adapterHost?: HttpAdapterHost,
  ) {}

  /** What to hand back for `error` in `host`'s context: a refusal mapped, anything else as is. */
  map(error: unknown, host: ArgumentsHost): unknown {
    if (!isRejection(error)) return error;
    switch (host.getType<string>()) {
      case 'http':
        return this.mapHttp(error, host);
      case 'rpc':
        return this.mapRpc(error, host);
      case 'ws':
        return this.mapWs(error, host);
      case 'graphql':
        return this.mapGraphql(error, host);
      default:
        return error;
    }
  }

  /**
   * HTTP: sets `Retry-After` on the response (when the refusal says when to retry and the headers
   * are not sent yet) and returns the `ServiceUnavailableException` to answer with.
   */
  protected mapHttp(error: CircuitBreakerRejection, host: ArgumentsHost): unknown {
    const seconds = retryAfterSeconds(error);
    if (seconds !== undefined) {
      const response: unknown = host.switchToHttp().getResponse();
      setResponseHeader(this.httpAdapter, response, 'Retry-After', String(seconds));
    }
    return new ServiceUnavailableException(undefined, { cause: error });
  }

  /** Microservices (`rpc`): the refusal unchanged. */
  protected mapRpc(error: CircuitBreakerRejection, _host: ArgumentsHost): unknown {
    return error;
  }

  /** WebSocket gateways (`ws`): the refusal unchanged. */
  protected mapWs(error: CircuitBreakerRejection, _host: ArgumentsHost): unknown {
    return error;
  }

  /** GraphQL resolvers (`graphql`, from `@nestjs/graphql`): the refusal unchanged. */
  protected mapGraphql(error: CircuitBreakerRejection, _host: ArgumentsHost): unknown {
    return error;
  }

  /** The application's HTTP adapter, if there is one (read at each call: it is set late). */
  protected get httpAdapter(): HttpAdapter {
    return this.adapterHost?.httpAdapter;
  }
}
