import { spawn } from 'node:child_process';
import { Cluster, Redis } from 'ioredis';
import { baseArgs, RedisProcesses, requireRedisBinaries } from './redis-processes.js';
import { freePort, ping, until } from './redis-server.js';

/** A Redis Cluster on loopback ports, started by the test. */
export interface TestCluster {
  /** The masters' ports, then the replicas' (as they were created). */
  readonly ports: readonly number[];
  /** Startup nodes for ioredis `Cluster`. */
  readonly nodes: ReadonlyArray<{ host: string; port: number }>;
  /** A plain client for one node (closed by `stop`). */
  node(port: number): Redis;
  /** An ioredis `Cluster` for inspecting the cluster (closed by `stop`). */
  client(): Cluster;
  /** The port of the master serving `key`'s slot now. */
  masterOf(key: string): Promise<number>;
  /** The port of a replica of the master serving `key`'s slot now. */
  replicaOf(key: string): Promise<number>;
  /** Kills the node on `port` with SIGKILL. */
  kill(port: number): Promise<void>;
  /** Waits until every live node reports `cluster_state:ok` and sees `masters` masters. */
  healthy(masters?: number): Promise<void>;
  stop(): Promise<void>;
}

/** redis-cli, run to its end; rejects with its output if it fails. */
function cli(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`redis-cli ${args[0]} failed: ${out}`)),
    );
  });
}

/**
 * Starts a cluster of `masters` masters with `replicasPerMaster` replicas each, on free loopback
 * ports (and free cluster-bus ports), with `cluster-node-timeout` `nodeTimeout` ms, in a temporary
 * directory; `stop()` kills only these processes.
 */
export async function startCluster(
  options: { masters?: number; replicasPerMaster?: number; nodeTimeout?: number } = {},
): Promise<TestCluster> {
  requireRedisBinaries();
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 0;
  const count = masters * (1 + replicas);
  const processes = new RedisProcesses();
  const ports: number[] = [];
  const clients: Array<Redis | Cluster> = [];
  try {
    const taken = new Set<number>();
    while (ports.length < count) {
      const port = await freePort();
      const bus = await freePort();
      if (taken.has(port) || taken.has(bus) || port === bus) continue;
      taken.add(port).add(bus);
      ports.push(port);
      processes.start(port, [
        ...baseArgs(port),
        '--cluster-enabled',
        'yes',
        '--cluster-port',
        String(bus),
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        String(options.nodeTimeout ?? 2_000),
        // A replica takes over however long it has been cut off from its master.
        '--cluster-replica-validity-factor',
        '0',
      ]);
    }
    for (const port of ports) {
      await until(() => ping(`redis://127.0.0.1:${port}`), 10_000, `cluster node ${port}`);
    }
    await cli([
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
  } catch (error) {
    await processes.stopAll();
    throw error;
  }
  const node = (port: number) => {
    const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, disconnectTimeout: 0 });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };
  const alive = new Set(ports);
  let started = false;
  const healthy = async (expected = masters) => {
    await until(
      async () => {
        for (const port of alive) {
          const c = node(port);
          try {
            const info = await c.cluster('INFO');
            if (!String(info).includes('cluster_state:ok')) return false;
            const slots = (await c.cluster('SLOTS')) as unknown[];
            const covered = slots.reduce<number>((n, s) => {
              const [from, to] = s as [number, number];
              return n + to - from + 1;
            }, 0);
            if (covered !== 16_384 || slots.length < expected) return false;
            // Replicas appear once they have synchronised with their master (at start).
            if (!started && slots.some((r) => (r as unknown[]).length < 3 + replicas)) return false;
            // Every node agrees on who serves the slots.
            const owners = slots.map((s) => (s as unknown[])[2] as [string, number]);
            if (owners.some(([, p]) => !alive.has(p))) return false;
          } finally {
            c.disconnect();
          }
        }
        return true;
      },
      30_000,
      'the cluster to be healthy',
    );
  };
  await healthy();
  started = true;
  const nodes = ports.map((port) => ({ host: '127.0.0.1', port }));
  /** The ports serving `key`'s slot now, master first, as a live node reports them. */
  const servers = async (key: string): Promise<number[]> => {
    for (const port of alive) {
      const c = node(port);
      try {
        const slot = Number(await c.cluster('KEYSLOT', key));
        const slots = (await c.cluster('SLOTS')) as unknown as Array<
          [number, number, ...Array<[string, number]>]
        >;
        const range = slots.find(([from, to]) => from <= slot && slot <= to);
        if (range) return (range.slice(2) as Array<[string, number]>).map(([, p]) => p);
      } catch {
        // this node does not answer: ask the next
      } finally {
        c.disconnect();
      }
    }
    throw new Error(`no node knows who serves ${key}`);
  };
  return {
    ports,
    nodes,
    node,
    client: () => {
      const c = new Cluster(nodes, { redisOptions: { disconnectTimeout: 0 } });
      c.on('error', () => undefined);
      clients.push(c);
      return c;
    },
    masterOf: async (key) => (await servers(key))[0]!,
    replicaOf: async (key) => {
      const replica = (await servers(key))[1];
      if (replica === undefined) throw new Error(`${key}'s master has no replica`);
      return replica;
    },
    kill: async (port) => {
      alive.delete(port);
      await processes.kill(port);
    },
    healthy,
    stop: async () => {
      for (const c of clients.splice(0)) c.disconnect();
      await processes.stopAll();
    },
  };
}
