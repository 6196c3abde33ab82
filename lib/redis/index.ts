/**
 * A Redis state store: one circuit shared by every instance of a service.
 * `import { RedisStore } from 'nestjs-circuit-breaker/redis'` (needs the `ioredis` package).
 */
export { RedisStore, type RedisStoreOptions, type RedisStoreStatus } from './redis.store.js';
export type { RedisCircuit } from './redis-circuit.js';
