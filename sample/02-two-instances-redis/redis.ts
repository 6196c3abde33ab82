import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer, createConnection } from 'node:net';

/** Where Redis is for this run, and how to let go of it. */
export interface SampleRedis {
  readonly url: string;
  /** What the sample is using, for the log. */
  readonly description: string;
  stop(): Promise<void>;
}

/**
 * A `redis-server` of the sample's own on a free loopback port, nothing persisted, when the binary
 * is on the PATH; otherwise the server `REDIS_URL` names; otherwise `undefined`.
 */
export async function startRedis(): Promise<SampleRedis | undefined> {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    const url = process.env.REDIS_URL;
    return url ? { url, description: `REDIS_URL=${url}`, stop: async () => undefined } : undefined;
  }
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 5_000;
  while (!(await accepts(port))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    description: `its own redis-server on 127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
