/**
 * A Redis state store: one circuit shared by every instance of a service.
 * `import { RedisStore } from 'nestjs-circuit-breaker/redis'` (needs the `ioredis` package).
 */
export { RedisStore } from './redis.store.js';
export type {
  RedisClusterConfig,
  RedisStoreOptions,
  RedisStoreStats,
  RedisStoreStatus,
} from './redis-store-options.interface.js';
export type { RedisCircuit } from './redis-circuit.js';
export type { ConfigDifference } from './circuit-config.js';
export {
  CircuitConfigMismatchError,
  isCircuitConfigMismatchError,
} from './config-mismatch.error.js';
