/**
 * Metadata key under which `@CircuitBreaker()` records its configuration: on the decorated method's
 * function, or on the class for a class-level decorator.
 * @publicApi
 */
export const CIRCUIT_BREAKER_METADATA = 'nestjs-circuit-breaker:breaker';

/**
 * Injection token of the application's one registry, provided by an always-global internal module
 * so that feature modules, decorated providers, the interceptor and the health indicator reach it
 * whether or not `CircuitBreakerModule` is global. Inject `CircuitBreakerRegistry` in your own code.
 * @internal
 */
export const CIRCUIT_BREAKER_REGISTRY = Symbol('CIRCUIT_BREAKER_REGISTRY');

const TOKEN_PREFIX = 'CircuitBreaker:';

/**
 * The injection token of the breaker named `name`, for custom providers and tests
 * (`Test.createTestingModule(...).overrideProvider(getCircuitBreakerToken('payments'))`).
 * `@InjectCircuitBreaker(name)` injects the same token.
 * @publicApi
 */
export function getCircuitBreakerToken(name: string): string {
  return `${TOKEN_PREFIX}${name}`;
}
