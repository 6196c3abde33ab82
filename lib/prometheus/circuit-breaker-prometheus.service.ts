import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CIRCUIT_BREAKER_REGISTRY } from '../circuit-breaker.constants.js';
import type { CircuitBreakerRegistry } from '../circuit-breaker.registry.js';
import type {
  CircuitBreakerMetrics,
  CircuitBreakerMetricsOptions,
  CircuitBreakerMetricsSource,
} from './circuit-breaker-metrics-options.interface.js';
import { registerCircuitBreakerMetrics } from './circuit-breaker.metrics.js';

/** The injection token of `CircuitBreakerPrometheusModule.forRoot()`'s options. @internal */
export const CIRCUIT_BREAKER_PROMETHEUS_OPTIONS = Symbol('CIRCUIT_BREAKER_PROMETHEUS_OPTIONS');

/**
 * Registers the application's breakers' metrics when the module starts, and takes them off the
 * prom-client registry when the application shuts down.
 * @internal
 */
@Injectable()
export class CircuitBreakerPrometheusService implements OnModuleInit, OnApplicationShutdown {
  private metrics: CircuitBreakerMetrics | undefined;

  constructor(
    @Inject(CIRCUIT_BREAKER_REGISTRY) private readonly registry: CircuitBreakerRegistry,
    @Inject(CIRCUIT_BREAKER_PROMETHEUS_OPTIONS)
    private readonly options: CircuitBreakerMetricsOptions,
  ) {}

  onModuleInit(): void {
    const source: CircuitBreakerMetricsSource = this.registry;
    this.metrics ??= registerCircuitBreakerMetrics(source, this.options);
  }

  onApplicationShutdown(): void {
    this.metrics?.dispose();
    this.metrics = undefined;
  }
}
