import type { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type {
  CircuitBreakerMetrics,
  CircuitBreakerMetricsOptions,
  CircuitBreakerMetricsSource,
} from './circuit-breaker-metrics-options.interface.js';
import { registerCircuitBreakerMetrics } from './circuit-breaker.metrics.js';

/**
 * Registers the application's breakers' metrics when the module starts, and takes them off the
 * prom-client registry when the application shuts down. Built by a factory provider, not
 * decorated: this entry point loads no Nest code, so engine users can import
 * `registerCircuitBreakerMetrics` from it without Nest installed.
 * @internal
 */
export class CircuitBreakerPrometheusService implements OnModuleInit, OnApplicationShutdown {
  private metrics: CircuitBreakerMetrics | undefined;

  constructor(
    private readonly registry: CircuitBreakerMetricsSource,
    private readonly options: CircuitBreakerMetricsOptions,
  ) {}

  onModuleInit(): void {
    this.metrics ??= registerCircuitBreakerMetrics(this.registry, this.options);
  }

  onApplicationShutdown(): void {
    this.metrics?.dispose();
    this.metrics = undefined;
  }
}
