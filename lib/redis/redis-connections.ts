import { Cluster, type ClusterNode, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { RedisClusterConfig, RedisStoreOptions } from './redis-store-options.interface.js';
import { ACQUIRE, PROBE, RECORD, SYNC, TOUCH, TRANSITION } from './scripts.js';

/** @internal The scripts, as commands of the command connection. */
export type ScriptName =
  'cbSync' | 'cbRecord' | 'cbAcquire' | 'cbProbe' | 'cbTransition' | 'cbTouch';
/** @internal A connection to one server (or through Sentinel), or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;
/** @internal The command connection, with the scripts defined on it. */
export type ScriptClient = RedisClient &
  Record<ScriptName, (...args: (string | number)[]) => Promise<unknown>>;

/** @internal A store's two connections to Redis. */
export interface RedisConnections {
  /** Scripts and PINGs; no offline queue, so nothing waits for a Redis that is away. */
  readonly commands: ScriptClient;
  /** Pub/sub: transitions and configurations arrive on it. */
  readonly events: RedisClient;
  /** Whether the connections are `Cluster` clients. */
  readonly cluster: boolean;
}

/** What the two connections differ in. */
interface ConnectionRole {
  readonly name: string;
  readonly offlineQueue: boolean;
  readonly maxRetriesPerRequest: number | null;
  readonly shardedSubscribers: boolean;
}

/**
 * @internal Opens a store's two connections, named `<prefix>commands` and `<prefix>events`, with
 * the scripts defined on the command connection. Reconnections are spaced 50 ms more each, up to
 * `retryInterval`. On a Cluster, the pub/sub client subscribes shard by shard when `sharded`.
 */
export function openConnections(
  redis: RedisStoreOptions['redis'],
  prefix: string,
  retryInterval: number,
  sharded: boolean,
): RedisConnections {
  const retryStrategy = (times: number) => Math.min(50 * times, retryInterval);
  // After close(), a connection that cannot end gracefully is destroyed at once rather than
  // after ioredis's default 2 s, which would keep the process alive.
  const disconnectTimeout = 100;
  const target = clusterTarget(redis);
  const open = (role: ConnectionRole): RedisClient => {
    const own = {
      disconnectTimeout,
      maxRetriesPerRequest: role.maxRetriesPerRequest,
      connectionName: `${prefix}${role.name}`,
    };
    if (target === undefined) {
      return new Redis({
        ...baseOptions(redis as Exclude<typeof redis, RedisClusterConfig | Cluster>),
        ...own,
        enableOfflineQueue: role.offlineQueue,
        autoResubscribe: false,
        retryStrategy,
      });
    }
    return new Cluster(target.nodes, {
      ...target.options,
      enableOfflineQueue: role.offlineQueue,
      clusterRetryStrategy: retryStrategy,
      shardedSubscribers: role.shardedSubscribers,
      redisOptions: { ...target.options.redisOptions, ...own },
    });
  };
  // No ioredis commandTimeout: the store times its commands itself (see `run`), because a
  // command that timed out still holds its slot until Redis answers it (see `maxInFlight`).
  const commands = open({
    name: 'commands',
    offlineQueue: false,
    maxRetriesPerRequest: 0,
    shardedSubscribers: false,
  }) as ScriptClient;
  const events = open({
    name: 'events',
    offlineQueue: true,
    maxRetriesPerRequest: null,
    shardedSubscribers: sharded,
  });
  for (const [name, lua] of [
    ['cbSync', SYNC],
    ['cbRecord', RECORD],
    ['cbAcquire', ACQUIRE],
    ['cbProbe', PROBE],
    ['cbTransition', TRANSITION],
  ] as const) {
    commands.defineCommand(name, { numberOfKeys: 5, lua });
  }
  commands.defineCommand('cbTouch', { numberOfKeys: 1, lua: TOUCH });
  return { commands, events, cluster: target !== undefined };
}

/** @internal Whether the `redis` option names a Redis Cluster. */
export function isClusterTarget(redis: RedisStoreOptions['redis']): boolean {
  return clusterTarget(redis) !== undefined;
}

function clusterTarget(
  redis: RedisStoreOptions['redis'],
): { nodes: ClusterNode[]; options: ClusterOptions } | undefined {
  if (redis instanceof Cluster) {
    // ioredis keeps a Cluster's startup nodes in a private field: the store copies them, as it
    // copies a client's options, and never uses the client itself.
    const nodes = (redis as unknown as { startupNodes: ClusterNode[] }).startupNodes;
    return { nodes: [...nodes], options: { ...redis.options } };
  }
  if (isClusterConfig(redis)) return { nodes: [...redis.cluster], options: { ...redis.options } };
  return undefined;
}

/** @internal Whether `redis` is a {@link RedisClusterConfig} (a client has a `cluster` method). */
export function isClusterConfig(redis: unknown): redis is RedisClusterConfig {
  return (
    typeof redis === 'object' &&
    redis !== null &&
    !(redis instanceof Redis) &&
    !(redis instanceof Cluster) &&
    'cluster' in redis
  );
}

function baseOptions(redis: string | RedisOptions | Redis): RedisOptions {
  if (typeof redis === 'string') {
    const url = new URL(redis);
    return {
      host: url.hostname,
      port: url.port ? Number(url.port) : 6379,
      username: url.username || undefined,
      password: url.password || undefined,
      db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined,
      tls: url.protocol === 'rediss:' ? {} : undefined,
    };
  }
  if (redis instanceof Redis) return { ...redis.options };
  return { ...redis };
}

/** @internal Ends a connection gracefully if Redis answers within `timeout` ms, else drops it. */
export async function quit(client: RedisClient, timeout: number): Promise<void> {
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(resolve, timeout, 'late')));
    if ((await Promise.race([client.quit(), late])) === 'late') client.disconnect();
  } catch {
    client.disconnect();
  } finally {
    clearTimeout(timer);
  }
}
