import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Redis processes a test started, in one temporary directory: each can be killed (`SIGKILL`, by
 * its own PID only) and the directory is removed at the end.
 */
export class RedisProcesses {
  readonly dir = mkdtempSync(join(tmpdir(), 'cb-redis-'));
  private readonly children = new Map<number, ChildProcess>();

  /** Starts `redis-server` with `args` (the port is one of them), keyed by its port. */
  start(port: number, args: readonly string[]): void {
    const child = spawn('redis-server', [...args], { stdio: 'ignore', cwd: this.dir });
    child.on('error', () => undefined);
    this.children.set(port, child);
  }

  /** Kills the server on `port` with SIGKILL and waits until it has exited. */
  async kill(port: number): Promise<void> {
    const child = this.children.get(port);
    this.children.delete(port);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /** Kills every server still running, then removes the directory. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.children.keys()].map((port) => this.kill(port)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Throws, saying what is missing, unless `redis-server` and `redis-cli` are on the PATH: the
 * Cluster and Sentinel suites start their own servers (`.ci/run` installs both).
 */
export function requireRedisBinaries(): void {
  for (const binary of ['redis-server', 'redis-cli']) {
    if (spawnSync(binary, ['--version']).status !== 0) {
      throw new Error(
        `the Cluster and Sentinel suites need ${binary} on the PATH (Debian: apt-get install redis-server redis-tools; .ci/run installs both)`,
      );
    }
  }
}

/** `redis-server` arguments for a loopback server on `port` that persists nothing. */
export function baseArgs(port: number): string[] {
  return ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
}
