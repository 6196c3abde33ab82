/**
 * Ops endpoints, an event stream and a dashboard: `nestjs-circuit-breaker/ops`. Needs
 * `@nestjs/common`, `@nestjs/core` and `rxjs` (the Nest peers); nothing else.
 */
export type {
  CircuitBreakerOpsGuard,
  CircuitBreakerOpsOptions,
} from './circuit-breaker-ops-options.interface.js';
export { CircuitBreakerOpsModule } from './circuit-breaker-ops.module.js';
export type {
  CircuitBreakerDetails,
  CircuitBreakerFamilySummary,
  CircuitBreakerOpsFamilySummary,
  CircuitBreakerOpsEvent,
  CircuitBreakerOpsEventType,
  CircuitBreakerOpsSummary,
  OpsTransition,
} from './ops-payloads.interface.js';
