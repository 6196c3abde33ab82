export * from './core/index.js';
export { CIRCUIT_BREAKER_METADATA, getCircuitBreakerToken } from './circuit-breaker.constants.js';
export {
  CircuitBreaker,
  getCircuitBreakerMetadata,
  type KeyedMethodDecorator,
} from './circuit-breaker.decorator.js';
export type { CircuitBreakerEvent, CircuitBreakerEventType } from './circuit-breaker.events.js';
export { CircuitBreakerInterceptor } from './circuit-breaker.interceptor.js';
export { CircuitBreakerModule } from './circuit-breaker.module.js';
export {
  type CircuitBreakerRejection,
  CircuitBreakerRejectionMapper,
} from './circuit-breaker-rejection.mapper.js';
export type {
  CircuitBreakerRejectionCode,
  CircuitBreakerRejectionPayload,
} from './transports/rejection-payload.js';
export {
  CIRCUIT_BREAKER_MODULE_OPTIONS,
  type CircuitBreakerModuleAsyncOptions,
  type CircuitBreakerModuleRootOptions,
} from './circuit-breaker.module-definition.js';
export { CircuitBreakerModuleOptionsError } from './circuit-breaker-options.resolver.js';
export {
  CircuitBreakerRegistry,
  UnknownCircuitBreakerError,
  UnknownCircuitBreakerFamilyError,
} from './circuit-breaker.registry.js';
export { CircuitOpenExceptionFilter } from './circuit-open.filter.js';
export { InjectCircuitBreaker } from './inject-circuit-breaker.decorator.js';
export * from './interfaces/index.js';
