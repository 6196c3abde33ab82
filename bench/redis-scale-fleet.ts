/**
 * The cost-at-scale bench's fleet: `instances` processes of bench/redis-scale-worker.ts on one
 * Redis, each with the same `breakers` breakers, driven over IPC. Every wait has a hang guard; a
 * worker that reports an error, or exits early, fails the run.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sleep } from './harness.js';
import type {
  FromInstance,
  InstanceCounters,
  LatencyResult,
  ToInstance,
} from './redis-scale-protocol.js';

/** A hang guard for each wait on the fleet. */
const GUARD_MS = 120_000;

export interface FleetOptions {
  readonly url: string;
  readonly prefix: string;
  readonly instances: number;
  readonly breakers: number;
  /** Calls per second, per instance. */
  readonly rate: number;
  readonly tickMs: number;
  readonly seed: number;
  /** The stores' commandTimeout, in ms. */
  readonly commandTimeout: number;
}

export class Fleet {
  private readonly workers: ChildProcess[] = [];
  private readonly exits: Array<Promise<unknown>> = [];
  private readonly inbox: FromInstance[] = [];
  private failure: string | undefined;
  private stopping = false;

  constructor(private readonly options: FleetOptions) {
    for (let i = 0; i < options.instances; i++) {
      const child = fork(fileURLToPath(new URL('./redis-scale-worker.js', import.meta.url)), {
        env: {
          ...process.env,
          REDIS_URL: options.url,
          PREFIX: options.prefix,
          BREAKERS: String(options.breakers),
          RATE: String(options.rate),
          TICK_MS: String(options.tickMs),
          SEED: String(options.seed * 1_000 + i),
          COMMAND_TIMEOUT:
            options.commandTimeout === undefined ? '' : String(options.commandTimeout),
        },
        execArgv: [],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      this.exits.push(
        new Promise((resolve) =>
          child.once('exit', (code) => {
            if (!this.stopping) this.failure ??= `instance ${child.pid} exited (${code})`;
            resolve(code);
          }),
        ),
      );
      child.on('message', (m: FromInstance) => {
        if (m.type === 'error') this.failure ??= `instance ${m.pid}: ${m.message}`;
        else this.inbox.push(m);
      });
      this.workers.push(child);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  send(message: ToInstance, to: readonly ChildProcess[] = this.workers): void {
    for (const w of to) w.send(message);
  }

  /** Waits for one message of `type` from each of `count` instances; takes them from the inbox. */
  async collect<T extends FromInstance['type']>(
    type: T,
    count = this.workers.length,
    guardMs = GUARD_MS,
  ): Promise<Array<Extract<FromInstance, { type: T }>>> {
    const deadline = Date.now() + guardMs;
    for (;;) {
      if (this.failure !== undefined) throw new Error(this.failure);
      const found = this.inbox.filter((m) => m.type === type);
      if (found.length >= count) {
        for (const m of found) this.inbox.splice(this.inbox.indexOf(m), 1);
        return found as Array<Extract<FromInstance, { type: T }>>;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} '${type}'`);
      await sleep(5);
    }
  }

  /** Starts every store, then binds every breaker (so that Redis's memory can be read between). */
  async connected(): Promise<void> {
    await this.collect('connected');
  }

  /** Binds every breaker; resolves with whether every store shares, and the slowest bind in ms. */
  async bind(): Promise<{ shared: boolean; ms: number }> {
    this.send({ type: 'bind' });
    const ready = await this.collect('ready');
    return { shared: ready.every((m) => m.shared), ms: Math.max(...ready.map((m) => m.ms)) };
  }

  /** Every instance's counters, summed. */
  async counters(): Promise<InstanceCounters> {
    this.send({ type: 'report' });
    const all = (await this.collect('counters')).map((m) => m.counters);
    const sum = (key: keyof InstanceCounters) => all.reduce((s, c) => s + c[key], 0);
    return {
      calls: sum('calls'),
      pairs: sum('pairs'),
      rejected: sum('rejected'),
      failed: sum('failed'),
      transitions: sum('transitions'),
      storeEvents: sum('storeEvents'),
      cpuMs: sum('cpuMs'),
      queued: sum('queued'),
      recorded: sum('recorded'),
      dropped: sum('dropped'),
      peakInFlight: Math.max(...all.map((c) => c.peakInFlight)),
    };
  }

  /** The hot-path measurement, on the first instance (the others keep their traffic). */
  async latency(rounds: number, warmup: number, ops: number): Promise<LatencyResult> {
    this.send({ type: 'latency', rounds, warmup, ops }, [this.workers[0]!]);
    return (await this.collect('latency', 1, 600_000))[0]!.result;
  }

  /** Starts the storm at `at` (`stamp()`); resolves with when each instance first saw each open. */
  async storm(count: number, at: number): Promise<Array<Array<number | null>>> {
    this.send({ type: 'storm', count, at });
    return (await this.collect('stormed')).map((m) => m.opened);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const w of this.workers) if (w.connected) w.send({ type: 'stop' });
    const guard = setTimeout(() => this.workers.forEach((w) => w.kill('SIGKILL')), 30_000);
    await Promise.all(this.exits);
    clearTimeout(guard);
  }
}
