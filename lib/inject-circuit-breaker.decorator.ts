import { Inject } from '@nestjs/common';
import { getCircuitBreakerToken } from './circuit-breaker.constants.js';

/**
 * Injects the engine's `Breaker` named `name`: one declared in `CircuitBreakerModule.forRoot({
 * breakers })` (with `forRoot`, not `forRootAsync`), or listed in the module's
 * `CircuitBreakerModule.forFeature()`.
 *
 * ```ts
 * constructor(@InjectCircuitBreaker('payments') private readonly payments: Breaker) {}
 * ```
 * @publicApi
 */
export function InjectCircuitBreaker(name: string): PropertyDecorator & ParameterDecorator {
  return Inject(getCircuitBreakerToken(name));
}
