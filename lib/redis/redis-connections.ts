import { Redis, type RedisOptions } from 'ioredis';
import type { RedisStoreOptions } from './redis-store-options.interface.js';
import { ACQUIRE, PROBE, RECORD, SYNC, TOUCH, TRANSITION } from './scripts.js';

/** @internal The scripts, as commands of the command connection. */
export type ScriptName =
  'cbSync' | 'cbRecord' | 'cbAcquire' | 'cbProbe' | 'cbTransition' | 'cbTouch';
/** @internal The command connection, with the scripts defined on it. */
export type ScriptClient = Redis &
  Record<ScriptName, (...args: (string | number)[]) => Promise<unknown>>;

/** @internal A store's two connections to Redis. */
export interface RedisConnections {
  /** Scripts and PINGs; no offline queue, so nothing waits for a Redis that is away. */
  readonly commands: ScriptClient;
  /** Pub/sub: transitions and configurations arrive on it. */
  readonly events: Redis;
}

/**
 * @internal Opens a store's two connections, named `<prefix>commands` and `<prefix>events`, with
 * the scripts defined on the command connection. Reconnections are spaced 50 ms more each, up to
 * `retryInterval`.
 */
export function openConnections(
  redis: RedisStoreOptions['redis'],
  prefix: string,
  retryInterval: number,
): RedisConnections {
  const base = baseOptions(redis);
  const retryStrategy = (times: number) => Math.min(50 * times, retryInterval);
  // After close(), a connection that cannot end gracefully is destroyed at once rather than
  // after ioredis's default 2 s, which would keep the process alive.
  const disconnectTimeout = 100;
  // No ioredis commandTimeout: the store times its commands itself (see `run`), because a
  // command that timed out still holds its slot until Redis answers it (see `maxInFlight`).
  const commands = new Redis({
    ...base,
    disconnectTimeout,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy,
    connectionName: `${prefix}commands`,
  }) as ScriptClient;
  const events = new Redis({
    ...base,
    disconnectTimeout,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    autoResubscribe: false,
    retryStrategy,
    connectionName: `${prefix}events`,
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
  return { commands, events };
}

function baseOptions(redis: RedisStoreOptions['redis']): RedisOptions {
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
export async function quit(client: Redis, timeout: number): Promise<void> {
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
