import type { DynamicModule } from '@nestjs/common';
import { CIRCUIT_BREAKER_REGISTRY } from '../circuit-breaker.constants.js';
import type { CircuitBreakerRegistry } from '../circuit-breaker.registry.js';
import type { CircuitBreakerMetricsOptions } from './circuit-breaker-metrics-options.interface.js';
import { CircuitBreakerPrometheusService } from './circuit-breaker-prometheus.service.js';

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
        {
          provide: CircuitBreakerPrometheusService,
          useFactory: (registry: CircuitBreakerRegistry) =>
            new CircuitBreakerPrometheusService(registry, options),
          inject: [CIRCUIT_BREAKER_REGISTRY],
        },
      ],
    };
  }
}
