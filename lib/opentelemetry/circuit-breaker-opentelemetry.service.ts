import type { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type {
  CircuitBreakerTelemetry,
  CircuitBreakerTelemetryOptions,
  CircuitBreakerTelemetrySource,
} from './circuit-breaker-telemetry-options.interface.js';
import { instrumentCircuitBreakers } from './instrument-circuit-breakers.js';

/**
 * Instruments the application's breakers when the module starts (so the global meter provider is
 * read then, after an SDK started before the application), and stops when the application shuts
 * down. Built by a factory provider, not decorated: this entry point loads no Nest code, so engine
 * users can import `instrumentCircuitBreakers` from it without Nest installed.
 * @internal
 */
export class CircuitBreakerOpenTelemetryService implements OnModuleInit, OnApplicationShutdown {
  private telemetry: CircuitBreakerTelemetry | undefined;

  constructor(
    private readonly source: CircuitBreakerTelemetrySource,
    private readonly options: CircuitBreakerTelemetryOptions,
  ) {}

  onModuleInit(): void {
    this.telemetry ??= instrumentCircuitBreakers(this.source, this.options);
  }

  onApplicationShutdown(): void {
    this.telemetry?.dispose();
    this.telemetry = undefined;
  }
}
