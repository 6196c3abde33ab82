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
 * Injection token of the layers of options the testing module lays over every breaker's own (a
 * `CircuitBreakerFinalLayers` function). The registry injects it when it is provided.
 * @internal
 */
export const CIRCUIT_BREAKER_FINAL_LAYERS = Symbol('CIRCUIT_BREAKER_FINAL_LAYERS');

/**
 * The engine events an application's `events$` stream carries and the metrics entries count, in
 * the order their listeners are attached. Here, in the one glue file with no import, so that the
 * Prometheus and OpenTelemetry entries (which load no Nest code) share it with the registry.
 * @internal
 */
export const CIRCUIT_BREAKER_EVENT_TYPES = [
  'stateChange',
  'success',
  'failure',
  'timeout',
  'rejection',
  'ignored',
] as const;

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
