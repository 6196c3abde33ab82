import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** A Redis server for a test suite: one this process started, or the one `REDIS_URL` names. */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** Whether this process started the server (and can stop, restart and pause it). */
  readonly owned: boolean;
  /** A plain client for inspecting and manipulating the server. */
  client(): Redis;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /**
   * Freezes the server (`SIGSTOP`): it keeps its connections open and reads nothing, as a Redis
   * stuck in a long command, a fork or a VM pause does. Only for a server this process started.
   */
  pause(): void;
  /** Lets a paused server run again (`SIGCONT`). */
  resume(): void;
}

export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Waits until `check` passes or the deadline is reached; never sleeps for a fixed time. */
export async function until(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

export async function ping(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    // disconnect() otherwise leaves a 2 s timer behind, which keeps the test process alive.
    disconnectTimeout: 0,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * Starts `redis-server` on a free loopback port with nothing persisted, or uses `REDIS_URL` when
 * the binary is not installed (CI makes sure one of the two exists).
 */
export async function startRedis(): Promise<TestRedis> {
  const external = process.env.REDIS_URL;
  if (!redisServerAvailable()) {
    if (!external) {
      throw new Error(
        'Redis tests need redis-server on the PATH or REDIS_URL (see README, "Development")',
      );
    }
    const port = Number(new URL(external).port || 6379);
    const clients: Redis[] = [];
    return {
      url: external,
      port,
      owned: false,
      client: () => {
        const c = new Redis(external, { disconnectTimeout: 0 });
        clients.push(c);
        return c;
      },
      stop: async () => {
        for (const c of clients.splice(0)) c.disconnect();
      },
      restart: async () => {
        throw new Error('cannot restart an external Redis');
      },
      pause: () => {
        throw new Error('cannot pause an external Redis');
      },
      resume: () => {
        throw new Error('cannot resume an external Redis');
      },
    };
  }
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const clients: Redis[] = [];
  const start = async () => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await until(() => ping(url), 10_000, `redis-server on port ${port}`);
  };
  const stopServer = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url,
    port,
    owned: true,
    client: () => {
      const c = new Redis(url, { maxRetriesPerRequest: 1, disconnectTimeout: 0 });
      c.on('error', () => undefined);
      clients.push(c);
      return c;
    },
    stop: async () => {
      for (const c of clients.splice(0)) c.disconnect();
      await stopServer();
    },
    restart: async () => {
      await stopServer();
      await start();
    },
    pause: () => {
      if (child?.exitCode !== null || !child.kill('SIGSTOP'))
        throw new Error('redis-server is not running');
    },
    resume: () => {
      // SIGKILL (stop()) ends a stopped process too; SIGCONT on one that is not stopped is harmless.
      child?.kill('SIGCONT');
    },
  };
}
