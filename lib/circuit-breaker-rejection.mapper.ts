import {
  type ArgumentsHost,
  Inject,
  Injectable,
  IntrinsicException,
  type OnModuleInit,
  Optional,
  ServiceUnavailableException,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { isRejection } from './core/internal.js';
import { grpcRejectionStatus, isGrpcMetadata } from './transports/grpc-status.js';
import type { CircuitBreakerRejection } from './transports/rejection.js';
import {
  type CircuitBreakerRejectionPayload,
  rejectionPayload,
} from './transports/rejection-payload.js';
import { loadTransportExceptions, transportExceptions } from './transports/transport-exceptions.js';
import { retryAfterSeconds } from './utils/http.util.js';
import { type HttpAdapter, setResponseHeader } from './utils/http-response.util.js';

export type { CircuitBreakerRejection } from './transports/rejection.js';

/**
 * Stands in for `RpcException` / `WsException` when `@nestjs/microservices` /
 * `@nestjs/websockets` could not be loaded: `CircuitOpenExceptionFilter` answers it the same way.
 */
class RejectionException extends IntrinsicException {
  constructor(private readonly error: CircuitBreakerRejectionPayload) {
    super(error.message);
  }

  getError(): CircuitBreakerRejectionPayload {
    return this.error;
  }
}

/**
 * A refusal in a GraphQL resolver: graphql-js wraps it in a `GraphQLError` that keeps its
 * `extensions`; an `IntrinsicException`, so that Nest's resolver error handler does not log it.
 */
class GraphqlRejection extends IntrinsicException {
  constructor(
    message: string,
    readonly extensions: Record<string, unknown>,
  ) {
    super(message);
  }
}

/**
 * Turns a refused call's error into what the caller's transport expects. Both
 * `CircuitOpenExceptionFilter` and `CircuitBreakerInterceptor` ask it, so a transport's answer is
 * written once. {@link map} picks a `protected` hook by the context type (`host.getType()`); any
 * other error is handed back unchanged. Every answer carries a stable code
 * ({@link CircuitBreakerRejectionCode}) and names no breaker.
 *
 * - `http`: `503 Service Unavailable` (a `ServiceUnavailableException` whose `cause` is the
 *   refusal), with a `Retry-After` header in whole seconds (at least 1; none for a circuit held
 *   open by hand or a full bulkhead), on Express and Fastify.
 * - `rpc` (microservices): an `RpcException` whose error is a
 *   {@link CircuitBreakerRejectionPayload} (`{ status, code, message, retryAfter }`); over gRPC,
 *   status 14 `UNAVAILABLE` with the code and the retry delay in trailers (see the README).
 * - `ws` (gateways): a `WsException` with the same payload: the client's `exception` event data.
 * - `graphql`: a `GraphQLError` (made by GraphQL from the error this returns) with
 *   `extensions.code: 'SERVICE_UNAVAILABLE'`, `extensions.reason` (the stable code) and
 *   `extensions.retryAfter` (seconds, when known).
 *
 * The transport packages are optional peers, loaded with `import()` when the module starts.
 *
 * To answer another way, extend it and override one hook, as with `ThrottlerGuard`'s
 * `throwThrottlingException`:
 *
 * ```ts
 * @Injectable()
 * export class TeapotRejectionMapper extends CircuitBreakerRejectionMapper {
 *   protected override mapHttp(error: CircuitBreakerRejection): unknown {
 *     return new HttpException('Try the other pot', 418);
 *   }
 * }
 * ```
 *
 * then provide it in place of this one (`{ provide: CircuitBreakerRejectionMapper, useClass:
 * TeapotRejectionMapper }` in the module of the controllers or resolvers), or hand it to the
 * filter: `new CircuitOpenExceptionFilter(adapterHost, new TeapotRejectionMapper(adapterHost))`.
 * @publicApi
 */
@Injectable()
export class CircuitBreakerRejectionMapper implements OnModuleInit {
  constructor(
    @Optional() @Inject(HttpAdapterHost) protected readonly adapterHost?: HttpAdapterHost,
  ) {
    void loadTransportExceptions();
  }

  /** Waits for the optional transport packages to be looked up (they are imported lazily). */
  async onModuleInit(): Promise<void> {
    await loadTransportExceptions();
  }

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

  /**
   * Microservices (`rpc`): an `RpcException` whose error is {@link payload}'s; over gRPC, its error
   * is a gRPC status instead: `UNAVAILABLE`, with the code and retry delay in trailers.
   */
  protected mapRpc(error: CircuitBreakerRejection, host: ArgumentsHost): unknown {
    const payload = this.payload(error);
    const context: unknown = host.switchToRpc().getContext();
    const body = isGrpcMetadata(context) ? grpcRejectionStatus(error, payload, context) : payload;
    const RpcException = transportExceptions().RpcException;
    return RpcException === undefined ? new RejectionException(payload) : new RpcException(body);
  }

  /** WebSocket gateways (`ws`): a `WsException` whose error is {@link payload}'s. */
  protected mapWs(error: CircuitBreakerRejection, _host: ArgumentsHost): unknown {
    const payload = this.payload(error);
    const WsException = transportExceptions().WsException;
    return WsException === undefined ? new RejectionException(payload) : new WsException(payload);
  }

  /**
   * GraphQL resolvers (`graphql`, from `@nestjs/graphql`): an error that GraphQL turns into a
   * `GraphQLError` with its message and `extensions: { code: 'SERVICE_UNAVAILABLE', reason,
   * retryAfter }` (graphql-js keeps a resolver error's `extensions`). It is an
   * `IntrinsicException`, which Nest does not log.
   */
  protected mapGraphql(error: CircuitBreakerRejection, _host: ArgumentsHost): unknown {
    const { code, message, retryAfter } = this.payload(error);
    const extensions: Record<string, unknown> = { code: 'SERVICE_UNAVAILABLE', reason: code };
    if (retryAfter !== undefined) extensions.retryAfter = retryAfter;
    return new GraphqlRejection(message, extensions);
  }

  /** What clients outside HTTP are told about a refusal: code, message, retry time. */
  protected payload(error: CircuitBreakerRejection): CircuitBreakerRejectionPayload {
    return rejectionPayload(error);
  }

  /** The application's HTTP adapter, if there is one (read at each call: it is set late). */
  protected get httpAdapter(): HttpAdapter {
    return this.adapterHost?.httpAdapter;
  }
}
