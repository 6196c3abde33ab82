import { type DynamicModule, Module } from '@nestjs/common';
import type { CircuitBreakerMetricsOptions } from './circuit-breaker-metrics-options.interface.js';
import {
  CIRCUIT_BREAKER_PROMETHEUS_OPTIONS,
  CircuitBreakerPrometheusService,
} from './circuit-breaker-prometheus.service.js';

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
 * further setup. Breakers the registry creates later are reported too. On application shutdown the
 * breakers' series are removed, and the metrics leave the registry once no application uses them:
 * two applications in one process can share a registry (with distinct breaker names) or use one each.
 * @publicApi
 */
@Module({})
export class CircuitBreakerPrometheusModule {
  /** Registers the metrics; see {@link CircuitBreakerMetricsOptions} for the options and defaults. */
  static forRoot(options: CircuitBreakerMetricsOptions = {}): DynamicModule {
    return {
      module: CircuitBreakerPrometheusModule,
      providers: [
        { provide: CIRCUIT_BREAKER_PROMETHEUS_OPTIONS, useValue: options },
        CircuitBreakerPrometheusService,
      ],
    };
  }
}
