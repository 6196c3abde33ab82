/**
 * Breakers under a test's control: `nestjs-circuit-breaker/testing`. Needs the Nest peers
 * (`@nestjs/common`, `@nestjs/core`, `rxjs`), nothing else; not `@nestjs/testing` either.
 */
export type { CircuitBreakerTestingOptions } from './circuit-breaker-testing-options.interface.js';
export { CircuitBreakerTestingModule } from './circuit-breaker-testing.module.js';
export { CircuitBreakerTesting } from './circuit-breaker-testing.service.js';
export type { CircuitBreakerEventRecorder } from './event-recorder.js';
