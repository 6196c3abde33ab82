import type { DynamicModule, Provider } from '@nestjs/common';
import { CIRCUIT_BREAKER_REGISTRY } from '../circuit-breaker.constants.js';
import type { CircuitBreakerRegistry } from '../circuit-breaker.registry.js';
import type { CircuitBreakerMetricsOptions } from './circuit-breaker-metrics-options.interface.js';
import type { CircuitBreakerPrometheusAsyncOptions } from './circuit-breaker-prometheus-async-options.interface.js';
import {
  asyncOptionsProviders,
  checkMetricsOptions,
} from './circuit-breaker-prometheus.async-options.js';
import { CircuitBreakerPrometheusService } from './circuit-breaker-prometheus.service.js';

/** Where `forRootAsync()` puts the options its factory made. */
const METRICS_OPTIONS = Symbol('CircuitBreakerMetricsOptions');

function serviceProvider(
  inject: readonly symbol[],
  options?: CircuitBreakerMetricsOptions,
): Provider {
  return {
    provide: CircuitBreakerPrometheusService,
    useFactory: (registry: CircuitBreakerRegistry, made?: CircuitBreakerMetricsOptions) =>
      new CircuitBreakerPrometheusService(registry, made ?? options ?? {}),
    inject: [CIRCUIT_BREAKER_REGISTRY, ...inject],
  };
}

/**
 * Prometheus metrics for every breaker of the application (`CircuitBreakerModule.forRoot()` must
 * be imported too), with resilience4j-micrometer's names and labels:
 *
 * ```ts
 * @Module({
 *   imports: [
 *     CircuitBreakerModule.forRoot(),
 *     CircuitBreakerPrometheusModule.forRoot({ prefix: 'resilience4j_circuitbreaker_' }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 *
 * The metrics go on prom-client's global `register` unless `registry` names another, so that
 * `@willsoto/nestjs-prometheus` (which serves the global registry by default) exposes them with no
 * further setup. Breakers the registry creates later are reported too. On application shutdown
 * the breakers' series are removed, and the metrics leave the prom-client registry once no
 * application uses them: two applications in one process can share a registry (with distinct
 * breaker names) or use one each.
 * @publicApi
 */
export class CircuitBreakerPrometheusModule {
  /** Registers the metrics; see {@link CircuitBreakerMetricsOptions} for the options and defaults. */
  static forRoot(options: CircuitBreakerMetricsOptions = {}): DynamicModule {
    // No decorators (and so no Nest import at run time): a dynamic module needs none, and the
    // factory provider's instance still gets its lifecycle hooks.
    return {
      module: CircuitBreakerPrometheusModule,
      providers: [
        serviceProvider(
          [],
          checkMetricsOptions(options, 'CircuitBreakerPrometheusModule.forRoot()'),
        ),
      ],
    };
  }

  /**
   * Registers the metrics with options made at bootstrap: by `useFactory` (with `inject` and
   * `imports`), by a class implementing `CircuitBreakerMetricsOptionsFactory` (`useClass`), or by
   * an existing provider of one (`useExisting`):
   *
   * ```ts
   * CircuitBreakerPrometheusModule.forRootAsync({
   *   imports: [ConfigModule],
   *   inject: [ConfigService],
   *   useFactory: (config: ConfigService) => ({ prefix: config.get('METRICS_PREFIX') }),
   * });
   * ```
   *
   * The options are the same as `forRoot()`'s and are checked when the module is created: the
   * bootstrap fails, naming the option, if they are not valid.
   */
  static forRootAsync(options: CircuitBreakerPrometheusAsyncOptions): DynamicModule {
    const providers = asyncOptionsProviders(METRICS_OPTIONS, options);
    return {
      module: CircuitBreakerPrometheusModule,
      imports: options.imports ?? [],
      providers: [...providers, serviceProvider([METRICS_OPTIONS])],
    };
  }
}
