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

/**
 * The property under which Nest injects the registry into every instance of a class that has a
 * `@CircuitBreaker()` method (optional property injection, so it also reaches request-scoped and
 * transient instances created after bootstrap).
 * @internal
 */
export const CIRCUIT_BREAKER_REGISTRY_PROPERTY = Symbol('circuitBreakerRegistry');

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
