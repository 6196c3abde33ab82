import type {
  CircuitBreakerFamilyOptions,
  CircuitBreakerOptions,
} from './circuit-breaker-options.interface.js';

/**
 * Options of `CircuitBreakerModule.forRoot()` (and the value `forRootAsync()`'s factory returns).
 * Validated when the module starts: an unknown key, an unknown `extends` or an invalid value fails
 * the bootstrap with a message naming the breaker (or the option path) and the option.
 * @publicApi
 */
export interface CircuitBreakerModuleOptions {
  /** Options every breaker starts from (`extends` is not allowed here). */
  defaults?: Omit<CircuitBreakerOptions, 'extends'>;
  /**
   * Named configurations that breakers can `extend`: `{ strict: { failureThreshold: 2 } }`. A
   * configuration may itself extend another one; cycles are rejected.
   */
  configs?: Record<string, CircuitBreakerOptions>;
  /**
   * Breakers declared up front, by name: `{ payments: { extends: 'strict', timeout: 2_000 } }`.
   * Each is created at startup and injectable with `@InjectCircuitBreaker(name)` (with `forRoot`;
   * with `forRootAsync`, list the names in `forFeature()` to make them injectable).
   */
  breakers?: Record<string, CircuitBreakerOptions>;
  /**
   * Families of breakers, one breaker per key (a downstream host, a tenant, a shard), declared
   * up front by name: `{ carrier: { failureThreshold: 3, maxKeys: 500 } }`. A family is also
   * declared by a `@CircuitBreaker(name, { key })` method. Its name must not be a breaker's name,
   * nor the start (`carrier:`) of one. Reach one with `registry.family(name)`.
   */
  families?: Record<string, CircuitBreakerFamilyOptions>;
  /**
   * Whether `CircuitBreakerRegistry.get(name)` creates a breaker from `defaults` for a name that
   * was never declared. When `false`, an unknown name throws an error listing the known breakers.
   * Breakers named by `@CircuitBreaker()` are always declared, whatever this says.
   * @default false
   */
  autoCreate?: boolean;
}

/**
 * Options that shape the module definition itself, accepted by both `forRoot()` and
 * `forRootAsync()` next to the module options.
 * @publicApi
 */
export interface CircuitBreakerModuleExtras {
  /**
   * Make `CircuitBreakerRegistry` and the breakers declared in `forRoot({ breakers })` injectable
   * in every module. Decorated methods, `forFeature()`, the interceptor and the health indicator
   * work in every module either way.
   * @default true
   */
  isGlobal?: boolean;
  /**
   * Register `CircuitOpenExceptionFilter` as a global filter (`APP_FILTER`), so that a call refused
   * by a breaker anywhere in a request answers `503 Service Unavailable` with `Retry-After`.
   * @default false
   */
  httpErrorFilter?: boolean;
}

/**
 * Implemented by a class passed to `forRootAsync({ useClass })` or `{ useExisting }`.
 * @publicApi
 */
export interface CircuitBreakerOptionsFactory {
  createCircuitBreakerOptions(): CircuitBreakerModuleOptions | Promise<CircuitBreakerModuleOptions>;
}
