import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { BreakerOptionsError, describeValue } from '../core/internal.js';
import { isClusterConfig, isClusterTarget } from './redis-connections.js';
import type { RedisStoreOptions } from './redis-store-options.interface.js';

/** @internal A {@link RedisStoreOptions} checked, with every default applied. */
export interface ResolvedRedisStoreOptions {
  readonly quorum: number;
  readonly commandTimeout: number;
  readonly retryInterval: number;
  readonly keyTtl: number;
  readonly maxInFlight: number;
  readonly staleConfigAfter: number;
  readonly prefix: string;
  readonly instanceId: string;
  readonly logger: NonNullable<RedisStoreOptions['logger']>;
  /** The pub/sub channel: `<prefix>events` (classic pub/sub). */
  readonly channel: string;
  /** Whether `redis` is a Cluster. */
  readonly cluster: boolean;
  /** Whether transitions go by sharded pub/sub: on a Cluster, unless `shardedPubSub: false`. */
  readonly sharded: boolean;
}

/**
 * @internal Checks a store's options once, at construction: a {@link BreakerOptionsError} names
 * the option (the breaker is `<RedisStore>`), what was expected and what was received.
 */
export function resolveRedisStoreOptions(options: RedisStoreOptions): ResolvedRedisStoreOptions {
  const check = (option: string, ok: boolean, expected: string, value: unknown) => {
    if (!ok) throw new BreakerOptionsError('<RedisStore>', option, expected, describeValue(value));
  };
  check(
    'redis',
    options?.redis !== undefined && options.redis !== null,
    'a URL, ioredis options or an ioredis client',
    options?.redis,
  );
  if (isClusterConfig(options.redis)) {
    const nodes: unknown = options.redis.cluster;
    check(
      'redis.cluster',
      Array.isArray(nodes) && nodes.length > 0,
      'a non-empty array of startup nodes',
      nodes,
    );
  }
  const positive = (option: keyof RedisStoreOptions, fallback: number, integer = false): number => {
    const value = options[option] ?? fallback;
    check(
      option,
      typeof value === 'number' &&
        Number.isFinite(value) &&
        value > 0 &&
        (!integer || Number.isInteger(value)),
      integer ? 'an integer >= 1' : 'a finite number of milliseconds > 0',
      value,
    );
    return value as number;
  };
  // In this order, so that the first wrong option is the one reported.
  const quorum = positive('quorum', 2, true);
  const commandTimeout = positive('commandTimeout', 500);
  const retryInterval = positive('retryInterval', 1_000);
  const keyTtl = Math.ceil(positive('keyTtl', 86_400_000));
  const maxInFlight = positive('maxInFlight', 32, true);
  const staleConfigAfter = Math.ceil(positive('staleConfigAfter', 60_000));
  const prefix = options.prefix ?? 'circuit-breaker:';
  check('prefix', typeof prefix === 'string', 'a string', prefix);
  const shardedPubSub = options.shardedPubSub ?? true;
  check('shardedPubSub', typeof shardedPubSub === 'boolean', 'a boolean', shardedPubSub);
  const cluster = isClusterTarget(options.redis);
  return {
    quorum,
    commandTimeout,
    retryInterval,
    keyTtl,
    maxInFlight,
    staleConfigAfter,
    prefix,
    instanceId:
      options.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    logger: options.logger ?? console,
    channel: `${prefix}events`,
    cluster,
    sharded: cluster && shardedPubSub,
  };
}
