import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { baseArgs, RedisProcesses, requireRedisBinaries } from './redis-processes.js';
import { freePort, ping, until } from './redis-server.js';

/** One master, its replica and three sentinels on loopback ports, started by the test. */
export interface TestSentinel {
  /** The master group's name, for ioredis's `name` option. */
  readonly name: string;
  /** The sentinels, for ioredis's `sentinels` option. */
  readonly sentinels: ReadonlyArray<{ host: string; port: number }>;
  /** The two data servers' ports: the first master, then its replica. */
  readonly servers: readonly [number, number];
  /** A plain client for one data server (closed by `stop`). */
  node(port: number): Redis;
  /** The master's port, as every sentinel reports it now (throws while they disagree). */
  master(): Promise<number>;
  /** Kills the server on `port` with SIGKILL. */
  kill(port: number): Promise<void>;
  /** Waits until every sentinel names `port` the master and it says it is one. */
  promoted(port: number): Promise<void>;
  stop(): Promise<void>;
}

const NAME = 'cbmaster';

/**
 * Starts a master, a replica of it and three sentinels (quorum 2) watching it with
 * `down-after-milliseconds` `downAfter` ms, in a temporary directory; `stop()` kills only these.
 */
export async function startSentinel(options: { downAfter?: number } = {}): Promise<TestSentinel> {
  requireRedisBinaries();
  const processes = new RedisProcesses();
  const clients: Redis[] = [];
  const node = (port: number) => {
    const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, disconnectTimeout: 0 });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };
  const ask = async <T>(port: number, work: (c: Redis) => Promise<T>): Promise<T> => {
    const c = node(port);
    try {
      return await work(c);
    } finally {
      c.disconnect();
    }
  };
  const sentinelPorts: number[] = [];
  const master = await freePort();
  const replica = await freePort();
  try {
    processes.start(master, baseArgs(master));
    processes.start(replica, [...baseArgs(replica), '--replicaof', '127.0.0.1', String(master)]);
    for (const port of [master, replica])
      await until(() => ping(`redis://127.0.0.1:${port}`), 10_000, `redis-server ${port}`);
    await until(
      () =>
        ask(replica, async (c) => (await c.info('replication')).includes('master_link_status:up')),
      20_000,
      'the replica to sync',
    );
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      sentinelPorts.push(port);
      const file = join(processes.dir, `sentinel-${port}.conf`);
      writeFileSync(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `sentinel monitor ${NAME} 127.0.0.1 ${master} 2`,
          `sentinel down-after-milliseconds ${NAME} ${options.downAfter ?? 1_000}`,
          `sentinel failover-timeout ${NAME} 3000`,
          `sentinel parallel-syncs ${NAME} 1`,
          '',
        ].join('\n'),
      );
      processes.start(port, [file, '--sentinel']);
    }
    // Every sentinel knows the replica and the two other sentinels.
    for (const port of sentinelPorts) {
      await until(
        () =>
          ask(port, async (c) => {
            const fields = (await c.call('SENTINEL', 'MASTER', NAME)) as string[];
            const get = (k: string) => fields[fields.indexOf(k) + 1];
            return get('num-slaves') === '1' && get('num-other-sentinels') === '2';
          }),
        30_000,
        `sentinel ${port} to see the replica and the others`,
      );
    }
  } catch (error) {
    await processes.stopAll();
    throw error;
  }
  const reported = async (): Promise<number[]> =>
    Promise.all(
      sentinelPorts.map((port) =>
        ask(port, async (c) => {
          const addr = (await c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME)) as string[];
          return Number(addr[1]);
        }),
      ),
    );
  return {
    name: NAME,
    sentinels: sentinelPorts.map((port) => ({ host: '127.0.0.1', port })),
    servers: [master, replica],
    node,
    master: async () => {
      const ports = await reported();
      if (new Set(ports).size !== 1) throw new Error(`sentinels disagree: ${ports.join(', ')}`);
      return ports[0]!;
    },
    kill: (port) => processes.kill(port),
    promoted: async (port) => {
      await until(
        async () =>
          (await reported()).every((p) => p === port) &&
          (await ask(port, async (c) => (await c.info('replication')).includes('role:master'))),
        60_000,
        `${port} to be promoted`,
      );
    },
    stop: async () => {
      for (const c of clients.splice(0)) c.disconnect();
      await processes.stopAll();
    },
  };
}
