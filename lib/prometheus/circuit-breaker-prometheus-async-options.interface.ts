import type {
  InjectionToken,
  ModuleMetadata,
  OptionalFactoryDependency,
  Type,
} from '@nestjs/common';
import type { CircuitBreakerMetricsOptions } from './circuit-breaker-metrics-options.interface.js';

/**
 * A class that makes the metrics options, for `useClass` / `useExisting` of
 * `CircuitBreakerPrometheusModule.forRootAsync()`.
 * @publicApi
 */
export interface CircuitBreakerMetricsOptionsFactory {
  /** The options, or a promise of them; called once, when the module is created. */
  createCircuitBreakerMetricsOptions():
    CircuitBreakerMetricsOptions | Promise<CircuitBreakerMetricsOptions>;
}

/**
 * `CircuitBreakerPrometheusModule.forRootAsync()`'s argument: exactly one of `useFactory`,
 * `useClass` or `useExisting`, with the `imports` that provide what it needs.
 * @publicApi
 */
export interface CircuitBreakerPrometheusAsyncOptions {
  /** Modules whose exported providers `useFactory`'s `inject` or `useClass` need. @default [] */
  imports?: ModuleMetadata['imports'];
  /** Providers handed to `useFactory`, in order. @default [] */
  inject?: Array<InjectionToken | OptionalFactoryDependency>;
  /** Makes the options (a `ConfigService` reading the prefix, say); may be async. */
  useFactory?: (
    ...args: never[]
  ) => CircuitBreakerMetricsOptions | Promise<CircuitBreakerMetricsOptions>;
  /** A class the module instantiates (with its own dependencies) to make the options. */
  useClass?: Type<CircuitBreakerMetricsOptionsFactory>;
  /** An existing provider (from `imports`) that makes the options. */
  useExisting?: InjectionToken<CircuitBreakerMetricsOptionsFactory>;
}
