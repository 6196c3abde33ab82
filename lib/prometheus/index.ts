/**
 * Prometheus metrics: `nestjs-circuit-breaker/prometheus`. The only entry point that imports
 * `prom-client` (an optional peer dependency).
 */
export type {
  CircuitBreakerMetrics,
  CircuitBreakerMetricsOptions,
  CircuitBreakerMetricsSource,
  MetricsEventType,
  MetricsRegistry,
  MetricsSourceEvent,
} from './circuit-breaker-metrics-options.interface.js';
export { registerCircuitBreakerMetrics } from './circuit-breaker.metrics.js';
export { CircuitBreakerPrometheusModule } from './circuit-breaker-prometheus.module.js';
export type {
  CircuitBreakerMetricsOptionsFactory,
  CircuitBreakerPrometheusAsyncOptions,
} from './circuit-breaker-prometheus-async-options.interface.js';
