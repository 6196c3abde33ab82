import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
  Optional,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { catchError, EMPTY, type Observable, throwError } from 'rxjs';
import type { Breaker } from './core/internal.js';
import { CircuitBreakerRejectionMapper } from './circuit-breaker-rejection.mapper.js';
import { CIRCUIT_BREAKER_REGISTRY } from './circuit-breaker.constants.js';
import { getCircuitBreakerMetadata } from './circuit-breaker.decorator.js';
import { guardObservable } from './circuit-breaker.invoker.js';
import type { CircuitBreakerRegistry } from './circuit-breaker.registry.js';
import { skipsRefusedEvent } from './transports/job-refusals.js';

/**
 * Guards controller routes and answers refused calls over HTTP.
 *
 * ```ts
 * @Controller('quotes')
 * @UseInterceptors(CircuitBreakerInterceptor)
 * @CircuitBreaker('quotes-api')          // one breaker for every route of the controller
 * export class QuotesController { ... }
 * ```
 *
 * - A controller with a class-level `@CircuitBreaker()` has one breaker for all its routes (named
 *   after the class unless named), guarding each request (per subscription to the handler).
 * - A handler with its own `@CircuitBreaker()` is guarded by that decorator (its own breaker,
 *   which takes precedence over the controller's); the interceptor does not count it twice.
 * - In an HTTP context, a call refused by any breaker during the request (an open circuit, a full
 *   bulkhead, a breaker disposed by shutdown) becomes `503 Service Unavailable`, with a
 *   `Retry-After` header in whole seconds (at least 1) when the circuit tells when to retry; a
 *   circuit held open with `isolate()` has no `Retry-After`. Works on Express and Fastify.
 * - In every other context, a refusal becomes what the {@link CircuitBreakerRejectionMapper}
 *   decides: an `RpcException` (microservices; gRPC `UNAVAILABLE`), a `WsException` (gateways), a
 *   `GraphQLError` (resolvers). A refusal in a microservice `@EventPattern` handler, which has
 *   nobody to answer, is skipped quietly (logged at debug level, counted by the breaker).
 * @publicApi
 */
@Injectable()
export class CircuitBreakerInterceptor implements NestInterceptor {
  private readonly classBreakers = new WeakMap<object, Breaker>();
  private readonly mapper: CircuitBreakerRejectionMapper;

  constructor(
    @Inject(CIRCUIT_BREAKER_REGISTRY) private readonly registry: CircuitBreakerRegistry,
    @Optional() @Inject(HttpAdapterHost) adapterHost?: HttpAdapterHost,
    @Optional() @Inject(CircuitBreakerRejectionMapper) mapper?: CircuitBreakerRejectionMapper,
  ) {
    this.mapper = mapper ?? new CircuitBreakerRejectionMapper(adapterHost);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    let stream = next.handle();
    if (getCircuitBreakerMetadata(context.getHandler()) === undefined) {
      const breaker = this.breakerOfClass(context.getClass());
      if (breaker !== undefined) stream = guardObservable(breaker, stream);
    }
    return stream.pipe(
      catchError((error: unknown) =>
        skipsRefusedEvent(error, context)
          ? EMPTY
          : throwError(() => this.mapper.map(error, context)),
      ),
    );
  }

  private breakerOfClass(cls: object): Breaker | undefined {
    let breaker = this.classBreakers.get(cls);
    if (breaker === undefined) {
      const metadata = getCircuitBreakerMetadata(cls);
      if (metadata === undefined) return undefined;
      breaker = this.registry.get(metadata.name);
      this.classBreakers.set(cls, breaker);
    }
    return breaker;
  }
}
