/**
 * OpenTelemetry metrics and span events: `nestjs-circuit-breaker/opentelemetry`. The only entry
 * point that imports `@opentelemetry/api` (an optional peer dependency); it loads no Nest code at
 * run time, so engine users can import `instrumentCircuitBreakers` without Nest installed.
 */
export type {
  CircuitBreakerTelemetry,
  CircuitBreakerTelemetryOptions,
  CircuitBreakerTelemetrySource,
  CircuitBreakerTelemetryTarget,
  TelemetryEventType,
  TelemetrySourceEvent,
} from './circuit-breaker-telemetry-options.interface.js';
export { instrumentCircuitBreakers } from './instrument-circuit-breakers.js';
export { CircuitBreakerOpenTelemetryModule } from './circuit-breaker-opentelemetry.module.js';
