import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis, type RedisOptions } from 'ioredis';
import type { CircuitBinding, CircuitHandle, CircuitStore } from '../core/store/circuit-store.js';
import { BreakerOptionsError } from '../core/errors.js';
import { describeValue } from '../core/validate-options.js';
import { RedisCircuit, type FleetReply } from './redis-circuit.js';
import { ACQUIRE, PROBE, RECORD, SYNC, TRANSITION } from './scripts.js';

/** Options of a {@link RedisStore}. Durations are in milliseconds. */
export interface RedisStoreOptions {
  /**
   * Where Redis is: a URL (`redis://127.0.0.1:6379`), ioredis options, or an ioredis client whose
   * options are copied. The store opens its own two connections (commands, and pub/sub) and closes
   * them in `close()`; a client you pass is never used or closed by the store.
   */
  redis: string | RedisOptions | Redis;
  /** Prefix of every key and of the pub/sub channel. @default 'circuit-breaker:' */
  prefix?: string;
  /**
   * Distinct instances whose failures a fleet-wide trip needs: a single bad instance opens only its
   * own circuit, never the fleet's. `1` lets any instance trip the fleet. @default 2
   */
  quorum?: number;
  /**
   * A Redis command slower than this counts as Redis being unavailable: every breaker of the store
   * falls back to deciding locally. @default 500
   */
  commandTimeout?: number;
  /** While degraded, how often to check whether Redis is back. @default 1_000 */
  retryInterval?: number;
  /** Keys expire after this long without a write, so nothing stays in Redis forever. @default 86_400_000 (1 day) */
  keyTtl?: number;
  /** Identifies this instance in the quorum. @default `<hostname>:<pid>:<random>` */
  instanceId?: string;
  /** Receives one line when Redis becomes unavailable and one when it is back. @default console */
  logger?: { warn(message: string): void; log(message: string): void };
}

type ScriptName = 'cbSync' | 'cbRecord' | 'cbAcquire' | 'cbProbe' | 'cbTransition';
type ScriptClient = Redis & Record<ScriptName, (...args: (string | number)[]) => Promise<unknown>>;

/** Whether the store's circuits are shared through Redis right now. */
export type RedisStoreStatus = 'connecting' | 'shared' | 'degraded' | 'closed';

/**
 * Shares circuits between instances through Redis.
 *
 * - The hot path never waits for Redis: each breaker admits and rejects from a local copy of the
 *   fleet's state, which Redis pushes (pub/sub) on every transition. Outcomes are sent in batches of
 *   one event-loop turn; only a half-open probe lease is asked for synchronously.
 * - Every decision is atomic: outcomes, the trip policy and the transition run in one Lua script,
 *   with Redis's clock. Exactly `halfOpenMaxCalls` probes run fleet-wide, each holding a lease that
 *   expires after `probeExpiry`, so a crashed instance cannot strand the circuit.
 * - A fleet-wide trip needs failures from `quorum` distinct instances; every instance also keeps its
 *   own circuit, so a bad instance protects itself without opening everyone's.
 * - Redis unavailable or slow: every breaker falls back to its own circuit within `commandTimeout`,
 *   the store logs once and reports `degraded` (a `storeStatus` event, and in stats), calls carry on,
 *   and the breakers re-synchronise when Redis is back.
 */
export class RedisStore implements CircuitStore {
  /** This instance's id in the quorum. */
  readonly instanceId: string;
  /** The key and channel prefix. */
  readonly prefix: string;
  /** @internal */
  readonly quorum: number;
  /** @internal */
  readonly keyTtl: number;
  /** @internal */
  readonly channel: string;
  private readonly commands: ScriptClient;
  private readonly events: Redis;
  private readonly retryInterval: number;
  private readonly commandTimeout: number;
  private readonly logger: NonNullable<RedisStoreOptions['logger']>;
  private readonly circuits = new Map<string, Set<RedisCircuit>>();
  private currentStatus: RedisStoreStatus = 'connecting';
  private retryTimer: ReturnType<typeof setInterval> | undefined;
  private startTimer: ReturnType<typeof setTimeout> | undefined;
  private syncing = false;
  /** Whether the pub/sub connection is subscribed: without it transitions would go unheard. */
  private subscribed = false;

  constructor(options: RedisStoreOptions) {
    const check = (option: string, ok: boolean, expected: string, value: unknown) => {
      if (!ok)
        throw new BreakerOptionsError('<RedisStore>', option, expected, describeValue(value));
    };
    check(
      'redis',
      options?.redis !== undefined && options.redis !== null,
      'a URL, ioredis options or an ioredis client',
      options?.redis,
    );
    const positive = (
      option: keyof RedisStoreOptions,
      fallback: number,
      integer = false,
    ): number => {
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
    this.quorum = positive('quorum', 2, true);
    const commandTimeout = positive('commandTimeout', 500);
    this.commandTimeout = commandTimeout;
    this.retryInterval = positive('retryInterval', 1_000);
    this.keyTtl = Math.ceil(positive('keyTtl', 86_400_000));
    this.prefix = options.prefix ?? 'circuit-breaker:';
    check('prefix', typeof this.prefix === 'string', 'a string', this.prefix);
    this.instanceId =
      options.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.logger = options.logger ?? console;
    this.channel = `${this.prefix}events`;

    const base = baseOptions(options.redis);
    const retryStrategy = (times: number) => Math.min(50 * times, this.retryInterval);
    // After close(), a connection that cannot end gracefully is destroyed at once rather than
    // after ioredis's default 2 s, which would keep the process alive.
    const disconnectTimeout = 100;
    this.commands = new Redis({
      ...base,
      commandTimeout,
      disconnectTimeout,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy,
      connectionName: `${this.prefix}commands`,
    }) as ScriptClient;
    this.events = new Redis({
      ...base,
      disconnectTimeout,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      autoResubscribe: false,
      retryStrategy,
      connectionName: `${this.prefix}events`,
    });
    for (const [name, lua] of [
      ['cbSync', SYNC],
      ['cbRecord', RECORD],
      ['cbAcquire', ACQUIRE],
      ['cbProbe', PROBE],
      ['cbTransition', TRANSITION],
    ] as const) {
      this.commands.defineCommand(name, { numberOfKeys: 5, lua });
    }
    // ioredis reports connection trouble as 'error' events; the store turns it into `degraded`.
    this.commands.on('error', (error: unknown) => this.degrade(error));
    this.commands.on('close', () => this.degrade(new Error('connection to Redis closed')));
    this.commands.on('ready', () => void this.resync());
    this.events.on('error', () => undefined);
    // Shared decisions need both connections: transitions arrive on this one.
    this.events.on('close', () => {
      this.subscribed = false;
      this.degrade(new Error('pub/sub connection to Redis closed'));
    });
    this.events.on('ready', () => {
      this.events.subscribe(this.channel).then(
        () => {
          this.subscribed = true;
          void this.resync();
        },
        (error: unknown) => this.degrade(error),
      );
    });
    this.events.on('message', (channel: string, message: string) =>
      this.onMessage(channel, message),
    );
    this.startTimer = setTimeout(
      () => {
        if (this.currentStatus === 'connecting')
          this.degrade(new Error('Redis did not answer in time'));
      },
      Math.max(commandTimeout * 2, 1_000),
    );
    this.startTimer.unref?.();
  }

  /** Whether circuits are shared through Redis right now. */
  get status(): RedisStoreStatus {
    return this.currentStatus;
  }

  bind(binding: CircuitBinding): CircuitHandle {
    if (this.currentStatus === 'closed') {
      throw new BreakerOptionsError(
        binding.name,
        'store',
        'an open RedisStore',
        'a closed RedisStore',
      );
    }
    const circuit = new RedisCircuit(this, binding);
    let set = this.circuits.get(binding.name);
    if (set === undefined) this.circuits.set(binding.name, (set = new Set()));
    set.add(circuit);
    circuit.setShared(this.currentStatus === 'shared');
    if (this.currentStatus === 'shared') circuit.resync();
    return circuit;
  }

  /**
   * Closes the store's connections. Its breakers keep working on their own circuits (they report
   * `degraded`); dispose them first to release them.
   */
  async close(): Promise<void> {
    if (this.currentStatus === 'closed') return;
    this.currentStatus = 'closed';
    clearTimeout(this.startTimer);
    clearInterval(this.retryTimer);
    for (const set of this.circuits.values()) for (const c of set) c.setShared(false);
    await Promise.all([
      quit(this.commands, this.commandTimeout),
      quit(this.events, this.commandTimeout),
    ]);
  }

  // --- used by RedisCircuit --------------------------------------------------------------------

  /** @internal Runs a script for a circuit; a failure degrades the store and rejects. */
  async run(
    script: 'sync' | 'record' | 'acquire' | 'probe' | 'transition',
    circuit: RedisCircuit,
    args: ReadonlyArray<string | number>,
  ): Promise<FleetReply> {
    if (this.currentStatus !== 'shared' && !(script === 'sync' && this.syncing)) {
      throw new Error(`Redis store is ${this.currentStatus}`);
    }
    const fn = this.commands[SCRIPTS[script]];
    try {
      const reply = (await fn.call(
        this.commands,
        ...circuit.keys,
        circuit.scriptConfig(),
        ...args,
      )) as unknown[];
      return parseReply(reply);
    } catch (error) {
      this.degrade(error);
      throw error;
    }
  }

  /** @internal */
  unbind(circuit: RedisCircuit): void {
    const set = this.circuits.get(circuit.name);
    set?.delete(circuit);
    if (set?.size === 0) this.circuits.delete(circuit.name);
  }

  /** @internal Switches every circuit to local decisions; logs once per outage. */
  degrade(error: unknown): void {
    if (this.currentStatus === 'degraded' || this.currentStatus === 'closed') return;
    const wasConnecting = this.currentStatus === 'connecting';
    this.currentStatus = 'degraded';
    this.logger.warn(
      `[nestjs-circuit-breaker] Redis store ${wasConnecting ? 'could not reach' : 'lost'} Redis ` +
        `(${describeError(error)}); breakers decide locally until it is back`,
    );
    for (const set of this.circuits.values()) for (const c of set) c.setShared(false, error);
    this.retryTimer ??= setInterval(() => void this.probeRedis(), this.retryInterval);
    this.retryTimer.unref?.();
  }

  private async probeRedis(): Promise<void> {
    if (this.currentStatus !== 'degraded' || this.commands.status !== 'ready') return;
    try {
      await this.commands.ping();
    } catch {
      return;
    }
    await this.resync();
  }

  /** Reads every circuit's fleet state again, then switches back to shared decisions. */
  private async resync(): Promise<void> {
    if (
      this.currentStatus === 'shared' ||
      this.currentStatus === 'closed' ||
      this.syncing ||
      !this.subscribed ||
      this.commands.status !== 'ready'
    ) {
      return;
    }
    this.syncing = true;
    try {
      const circuits = [...this.circuits.values()].flatMap((set) => [...set]);
      const replies = await Promise.all(circuits.map((c) => this.run('sync', c, [])));
      // close() may have run while the replies were on their way.
      if ((this.currentStatus as RedisStoreStatus) === 'closed') return;
      const wasDegraded = this.currentStatus === 'degraded';
      this.currentStatus = 'shared';
      clearTimeout(this.startTimer);
      clearInterval(this.retryTimer);
      this.retryTimer = undefined;
      circuits.forEach((c, i) => c.adoptFromSync(replies[i]!));
      for (const set of this.circuits.values()) for (const c of set) c.setShared(true);
      if (wasDegraded)
        this.logger.log('[nestjs-circuit-breaker] Redis store is back; breakers share state again');
    } catch {
      // run() has degraded the store already; the retry timer tries again.
    } finally {
      this.syncing = false;
    }
  }

  private onMessage(channel: string, message: string): void {
    if (channel !== this.channel) return;
    let parsed: {
      n?: unknown;
      s?: unknown;
      g?: unknown;
      rem?: unknown;
      fp?: unknown;
      r?: unknown;
      id?: unknown;
    };
    try {
      parsed = JSON.parse(message) as typeof parsed;
    } catch {
      return;
    }
    if (typeof parsed.n !== 'string') return;
    const set = this.circuits.get(parsed.n);
    if (set === undefined || this.currentStatus !== 'shared') return;
    const reply: FleetReply = {
      state: String(parsed.s) as FleetReply['state'],
      generation: Number(parsed.g),
      remaining: Number(parsed.rem),
      failedProbes: Number(parsed.fp),
      admitted: false,
      wait: 0,
      id: String(parsed.id),
      reason: String(parsed.r),
    };
    for (const circuit of set) circuit.adopt(reply);
  }
}

const SCRIPTS = {
  sync: 'cbSync',
  record: 'cbRecord',
  acquire: 'cbAcquire',
  probe: 'cbProbe',
  transition: 'cbTransition',
} as const;

function parseReply(reply: unknown[]): FleetReply {
  return {
    state: String(reply[0]) as FleetReply['state'],
    generation: Number(reply[1]),
    remaining: Number(reply[2]),
    failedProbes: Number(reply[3]),
    admitted: Number(reply[4]) === 1,
    wait: Number(reply[5]),
    id: String(reply[6]),
    reason: String(reply[7]),
  };
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

/** Ends a connection gracefully if Redis answers within `timeout` ms, else drops it. */
async function quit(client: Redis, timeout: number): Promise<void> {
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

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
