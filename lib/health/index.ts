/**
 * Terminus integration: `nestjs-circuit-breaker/health`. The only entry point that imports
 * `@nestjs/terminus` (an optional peer dependency).
 */
export {
  type CircuitBreakerHealthDetails,
  CircuitBreakerHealthIndicator,
  type CircuitBreakerHealthOptions,
  type HalfOpenHealth,
} from './circuit-breaker.health.js';
export type { CircuitBreakerFamilyHealthDetails } from './family-health.js';
