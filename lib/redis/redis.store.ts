import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis, type RedisOptions } from 'ioredis';
import type { CircuitBinding, CircuitHandle, CircuitStore } from '../core/store/circuit-store.js';
import { BreakerOptionsError } from '../core/errors.js';
import { describeValue } from '../core/describe.js';
import {
  type ConfigDifference,
  configDifferences,
  describeDifferences,
  parseSharedConfig,
  sharedConfig,
} from './circuit-config.js';
import {
  CircuitConfigMismatchError,
  isCircuitConfigMismatchError,
} from './config-mismatch.error.js';
import { InFlightLimit, type Waiter } from './in-flight-limit.js';
import { RedisCircuit, type FleetReply, type FleetHint } from './redis-circuit.js';
import { ACQUIRE, PROBE, RECORD, SYNC, TOUCH, TRANSITION } from './scripts.js';

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
  /**
   * While degraded, how often to ask Redis (`PING`) whether it is back. A late answer to an
   * earlier command makes the store ask at once. The answer to that question ends the outage,
   * once it is 50 ms old; outages that follow each other (each less than retryInterval after the
   * store shared again) wait 50 ms more each, up to retryInterval, as ioredis spaces
   * reconnections.
   * @default 1_000
   */
  retryInterval?: number;
  /** Keys expire after this long without a write, so nothing stays in Redis forever. @default 86_400_000 (1 day) */
  keyTtl?: number;
  /** Identifies this instance in the quorum. @default `<hostname>:<pid>:<random>` */
  instanceId?: string;
  /**
   * The most commands the store has sent to Redis and not had answered, at once. A command holds
   * its slot until Redis answers it or the connection closes, even after `commandTimeout`: so a
   * Redis that stops reading (paused, stuck in a slow command) has at most this many of the
   * store's commands to work through when it runs again, however busy the breakers are.
   *
   * Beyond it nothing waits on the hot path: a breaker's outcomes gather in its one batch, sent
   * whole (one script call) when a slot is free; a batch waiting that long keeps every failure, and
   * drops the successes beyond 500 steps of the record script (counted in
   * `stats().outcomes.dropped.overflow`). Probe leases, probe outcomes, state reads and manual
   * transitions wait for a slot, ahead of outcomes, within `commandTimeout`. An integer >= 1.
   * @default 32
   */
  maxInFlight?: number;
  /**
   * A circuit's configuration in Redis that no running instance has used for this long may be
   * replaced by an instance whose configuration differs; until then, such an instance decides
   * alone (see {@link RedisStore}, "Configuration"). An instance uses it by writing to the circuit
   * (outcomes, probes, state reads), and, while it shares the circuit, by marking it used every
   * `staleConfigAfter / 4` even when idle: so a configuration goes stale only when every instance
   * that has it has stopped (or lost Redis). Milliseconds.
   * @default 60_000 (a minute)
   */
  staleConfigAfter?: number;
  /** Receives one line when Redis becomes unavailable and one when it is back. @default console */
  logger?: { warn(message: string): void; log(message: string): void };
}

type ScriptName = 'cbSync' | 'cbRecord' | 'cbAcquire' | 'cbProbe' | 'cbTransition' | 'cbTouch';
type ScriptClient = Redis & Record<ScriptName, (...args: (string | number)[]) => Promise<unknown>>;

/** Whether the store's circuits are shared through Redis right now. */
export type RedisStoreStatus = 'connecting' | 'shared' | 'degraded' | 'closed';

/**
 * What a {@link RedisStore} has sent and is sending, from `stats()`. Outcome counters add up:
 * `queued = recorded + pending + dropped.unavailable + dropped.mismatch + dropped.overflow +
 * dropped.stale`, at any moment.
 */
export interface RedisStoreStats {
  readonly status: RedisStoreStatus;
  /** The `maxInFlight` option. */
  readonly maxInFlight: number;
  /** Commands sent to Redis and not answered yet (never more than `maxInFlight`). */
  readonly inFlight: number;
  /** The most commands in flight at once since the store was created. */
  readonly peakInFlight: number;
  /** Commands waiting for a slot (outcomes waiting in breakers' batches not included). */
  readonly waiting: number;
  /** Outcomes of calls the fleet's circuit admitted, on their way to its trip policy in Redis. */
  readonly outcomes: {
    /** Handed to the store. */
    readonly queued: number;
    /** Run by Redis's record script (which ignores those of a generation that is over). */
    readonly recorded: number;
    /** In a breaker's batch, or sent and not answered yet. */
    readonly pending: number;
    readonly dropped: {
      /** The store lost Redis (or its command timed out) before Redis answered for them. */
      readonly unavailable: number;
      /** The circuit's configuration in Redis turned out to differ from this instance's. */
      readonly mismatch: number;
      /** Successes beyond a full batch, while the batch waited for a slot (`maxInFlight`). */
      readonly overflow: number;
      /** Not sent: the fleet's circuit moved to a new generation first, or the breaker was disposed. */
      readonly stale: number;
    };
  };
  /**
   * Circuits whose breakers decide alone because this instance's configuration differs from the
   * one in Redis: the breaker's name and the options that differ.
   */
  readonly mismatched: ReadonlyArray<{
    readonly breaker: string;
    readonly differences: readonly ConfigDifference[];
  }>;
}

/** A command in its slot: whether its caller gave up, and a way to say Redis answered. */
interface Call {
  abandoned(): boolean;
  answered(): void;
}

/** @internal Outcome counters, as `RedisStoreStats.outcomes`, kept by the store's circuits. */
export interface OutcomeCounts {
  queued: number;
  recorded: number;
  pending: number;
  unavailable: number;
  mismatch: number;
  overflow: number;
  stale: number;
}

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
 *   and the breakers re-synchronise as soon as Redis answers again. At most `maxInFlight` commands
 *   are ever unanswered, so a Redis that stopped reading has little to catch up on.
 * - Configuration: Redis keeps each circuit's configuration (the trip policy and its options,
 *   `openDuration`, `backoff`, `halfOpenMaxCalls`, `probeExpiry`, and this store's `quorum` and
 *   `keyTtl`), and script calls carry only its fingerprint. The configuration in use wins: an
 *   instance whose configuration differs logs a warning naming the breaker and each differing
 *   option with both values, reports `degraded` (the `storeStatus` event's error is a
 *   {@link CircuitConfigMismatchError}), and decides alone until the configurations match, or
 *   until no instance has used the one in Redis for `staleConfigAfter`: then its own replaces it.
 *   Two breakers of one name with different configurations on one store: `bind` throws.
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
  /** @internal */
  readonly outcomes: OutcomeCounts = {
    queued: 0,
    recorded: 0,
    pending: 0,
    unavailable: 0,
    mismatch: 0,
    overflow: 0,
    stale: 0,
  };
  private readonly retryInterval: number;
  private readonly commandTimeout: number;
  private readonly staleConfigAfter: number;
  private readonly limit: InFlightLimit;
  private readonly logger: NonNullable<RedisStoreOptions['logger']>;
  private readonly circuits = new Map<string, Set<RedisCircuit>>();
  /** Circuits whose configuration in Redis differs from this instance's, by name. */
  private readonly mismatches = new Map<
    string,
    { json: string; error: CircuitConfigMismatchError }
  >();
  /** Names being checked again, so that one check at a time goes per name. */
  private readonly rechecking = new Set<string>();
  private configTimer: ReturnType<typeof setInterval> | undefined;
  /** Marks the configurations this instance shares used (see `staleConfigAfter`). */
  private readonly touchTimer: ReturnType<typeof setInterval>;
  private pinging = false;
  /**
   * Outages in a row, each starting less than retryInterval after the store shared again: they
   * space re-synchronisations out, as ioredis spaces reconnections (see `retryInterval`).
   */
  private outages = 0;
  /** When the store last became shared, and the earliest it may again (performance.now(), ms). */
  private sharedAt = -Infinity;
  private resyncAt = 0;
  private resyncTimer: ReturnType<typeof setTimeout> | undefined;
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
    this.limit = new InFlightLimit(positive('maxInFlight', 32, true));
    this.staleConfigAfter = Math.ceil(positive('staleConfigAfter', 60_000));
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
    // No ioredis commandTimeout: the store times its commands itself (see `run`), because a
    // command that timed out still holds its slot until Redis answers it (see `maxInFlight`).
    this.commands = new Redis({
      ...base,
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
    this.commands.defineCommand('cbTouch', { numberOfKeys: 1, lua: TOUCH });
    // ioredis reports connection trouble as 'error' events; the store turns it into `degraded`.
    // (A lost connection also rejects the commands in flight, which gives their slots back.)
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
    this.touchTimer = setInterval(() => this.touch(), Math.max(1, this.staleConfigAfter / 4));
    this.touchTimer.unref?.();
  }

  /** Whether circuits are shared through Redis right now. */
  get status(): RedisStoreStatus {
    return this.currentStatus;
  }

  /** What the store has sent and is sending; see {@link RedisStoreStats}. */
  stats(): RedisStoreStats {
    const o = this.outcomes;
    return {
      status: this.currentStatus,
      maxInFlight: this.limit.max,
      inFlight: this.limit.inFlight,
      peakInFlight: this.limit.peak,
      waiting: this.limit.waiting,
      outcomes: {
        queued: o.queued,
        recorded: o.recorded,
        pending: o.pending,
        dropped: {
          unavailable: o.unavailable,
          mismatch: o.mismatch,
          overflow: o.overflow,
          stale: o.stale,
        },
      },
      mismatched: [...this.mismatches].map(([breaker, m]) => ({
        breaker,
        differences: m.error.differences,
      })),
    };
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
    const config = sharedConfig(binding.name, binding.config, this);
    let set = this.circuits.get(binding.name);
    const other = set?.values().next().value;
    if (other !== undefined && other.fingerprint !== config.fingerprint) {
      const differences = configDifferences(config.config, other.config);
      throw new BreakerOptionsError(
        binding.name,
        'store',
        `the same circuit options as the breaker already sharing "${binding.name}" in this RedisStore`,
        `different ones (${describeDifferences(differences, 'in this breaker', 'in the other')})`,
      );
    }
    const circuit = new RedisCircuit(
      this,
      binding,
      config,
      this.mismatches.get(binding.name)?.error,
    );
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
    clearInterval(this.configTimer);
    clearInterval(this.touchTimer);
    clearTimeout(this.resyncTimer);
    const closed = new Error('Redis store is closed');
    for (const waiter of this.limit.clear()) waiter.fail(closed);
    for (const set of this.circuits.values()) for (const c of set) c.setShared(false);
    await Promise.all([
      quit(this.commands, this.commandTimeout),
      quit(this.events, this.commandTimeout),
    ]);
  }

  // --- used by RedisCircuit --------------------------------------------------------------------

  /**
   * @internal Runs a script for a circuit. It waits for a slot (see `maxInFlight`) and for Redis,
   * `commandTimeout` in all; a timeout or a lost connection degrades the store and rejects. A
   * configuration in Redis that differs rejects with a {@link CircuitConfigMismatchError} (the
   * circuit's breakers decide alone from then on); the store stays shared.
   */
  run(
    script: 'sync' | 'record' | 'acquire' | 'probe' | 'transition',
    circuit: RedisCircuit,
    args: ReadonlyArray<string | number>,
  ): Promise<FleetReply> {
    if (this.currentStatus !== 'shared' && !(script === 'sync' && this.syncing)) {
      return Promise.reject(new Error(`Redis store is ${this.currentStatus}`));
    }
    return this.limited((call) => this.exchange(script, circuit, args, call));
  }

  /**
   * Runs `work` (commands on the command connection) in one slot, taken when a slot is free and
   * given back when `work` settles (when Redis has answered, or the connection closed), and
   * settles within `commandTimeout` of this call: a timeout or an error degrades the store (but a
   * {@link CircuitConfigMismatchError} does not).
   */
  private limited<T>(work: (call: Call) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let leaveQueue: (() => void) | undefined;
      const finish = (ok: boolean, value: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        leaveQueue?.();
        if (ok) resolve(value as T);
        else reject(value);
      };
      const timer = setTimeout(() => {
        const error = new Error(
          `Redis command timed out (no answer within commandTimeout, ${this.commandTimeout} ms)`,
        );
        finish(false, error);
        this.degrade(error);
      }, this.commandTimeout);
      let answered = false;
      const call: Call = {
        abandoned: () => settled,
        answered: () => (answered = true),
      };
      const start = () => {
        leaveQueue = undefined;
        this.limit.take();
        work(call)
          .then(
            (value) => finish(true, value),
            (error: unknown) => {
              if (settled) return;
              finish(false, error);
              if (!isCircuitConfigMismatchError(error)) this.degrade(error);
            },
          )
          .finally(() => {
            this.limit.release();
            // An answer while degraded (a late one, to a command that timed out): Redis may be
            // back. Ask it now rather than at the next retry; a fresh PING is the evidence (this
            // answer may only have been read late, by a busy event loop).
            if (answered && this.currentStatus === 'degraded') this.probeRedis();
          });
      };
      if (this.limit.free) start();
      else leaveQueue = this.limit.waitCommand({ start, fail: (error) => finish(false, error) });
    });
  }

  /** Marks the configuration of every circuit this instance shares used. */
  private touch(): void {
    if (this.currentStatus !== 'shared') return;
    for (const [name, set] of this.circuits) {
      const circuit = set.values().next().value;
      if (circuit === undefined || this.mismatches.has(name)) continue;
      this.limited(async (call) => {
        await this.commands.cbTouch(circuit.keys[0]!, circuit.fingerprint);
        call.answered();
      }).catch(() => undefined);
    }
  }

  /** @internal Whether a circuit's batch can go now; if not, it is queued for the next slot. */
  slotForBatch(batch: Waiter): boolean {
    if (this.limit.free) return true;
    this.limit.waitBatch(batch);
    return false;
  }

  /** @internal A circuit's batch no longer waits for a slot. */
  cancelBatch(batch: Waiter): void {
    this.limit.cancelBatch(batch);
  }

  /** @internal */
  unbind(circuit: RedisCircuit): void {
    const set = this.circuits.get(circuit.name);
    set?.delete(circuit);
    if (set?.size === 0) {
      this.circuits.delete(circuit.name);
      this.mismatches.delete(circuit.name);
    }
  }

  /** @internal Switches every circuit to local decisions; logs once per outage. */
  degrade(error: unknown): void {
    if (this.currentStatus === 'degraded' || this.currentStatus === 'closed') return;
    const wasConnecting = this.currentStatus === 'connecting';
    this.currentStatus = 'degraded';
    const now = performance.now();
    this.outages = now - this.sharedAt < this.retryInterval ? this.outages + 1 : 1;
    this.resyncAt = now + Math.min(50 * this.outages, this.retryInterval);
    this.logger.warn(
      `[nestjs-circuit-breaker] Redis store ${wasConnecting ? 'could not reach' : 'lost'} Redis ` +
        `(${describeError(error)}); breakers decide locally until it is back`,
    );
    // Callers waiting for a slot decide locally now, rather than at their timeout.
    for (const waiter of this.limit.clear()) waiter.fail(error);
    for (const set of this.circuits.values()) for (const c of set) c.setShared(false, error);
    this.retryTimer ??= setInterval(() => this.probeRedis(), this.retryInterval);
    this.retryTimer.unref?.();
  }

  /**
   * One script call (in one slot, see `limited`): sends the fingerprint, and the configuration too
   * when Redis asks for it (the circuit is new, or Redis lost it), when the configuration in Redis
   * has gone unused for `staleConfigAfter`, or when the circuit is known to differ (a check
   * whether it still does).
   */
  private async exchange(
    script: keyof typeof SCRIPTS,
    circuit: RedisCircuit,
    args: ReadonlyArray<string | number>,
    call: Call,
  ): Promise<FleetReply> {
    const fn = this.commands[SCRIPTS[script]];
    let attach = circuit.mismatched;
    for (;;) {
      const raw = (await fn.call(
        this.commands,
        ...circuit.keys,
        circuit.fingerprint,
        attach ? circuit.configJson : '',
        this.staleConfigAfter,
        ...circuit.callArgs(),
        ...args,
      )) as unknown[];
      call.answered();
      const stale = raw[0] === 'MISMATCH' && Number(raw[2]) >= this.staleConfigAfter;
      if (!attach && (raw[0] === 'NOCONFIG' || stale)) {
        // Nothing was changed: send again, with the configuration. Not for a caller that gave up.
        if (call.abandoned()) throw new Error('Redis answered after commandTimeout');
        attach = true;
        continue;
      }
      if (raw[0] === 'MISMATCH') throw this.mismatch(circuit, raw);
      if (raw[0] === 'NOCONFIG') throw new Error('Redis did not store the configuration');
      const reply = parseReply(raw);
      if (reply.replaced !== '') this.replaced(circuit, reply.replaced);
      return reply;
    }
  }

  /** A MISMATCH answer: the circuit's breakers decide alone from now on. */
  private mismatch(circuit: RedisCircuit, raw: unknown[]): CircuitConfigMismatchError {
    const hint: FleetHint = {
      state: String(raw[3]) as FleetHint['state'],
      remaining: Number(raw[4]),
      failedProbes: Number(raw[5]),
    };
    return this.markMismatch(circuit, String(raw[1]), hint);
  }

  private markMismatch(
    circuit: RedisCircuit,
    json: string,
    hint: FleetHint | undefined,
  ): CircuitConfigMismatchError {
    const known = this.mismatches.get(circuit.name);
    if (known?.json === json) return known.error;
    const error = new CircuitConfigMismatchError(
      circuit.name,
      configDifferences(circuit.config, parseSharedConfig(json)),
    );
    this.mismatches.set(circuit.name, { json, error });
    this.logger.warn(
      `[nestjs-circuit-breaker] Redis store: ${error.message}; its breakers decide locally until ` +
        `the configurations match, or until the one in Redis goes unused for ` +
        `${this.staleConfigAfter} ms and this instance's replaces it`,
    );
    for (const c of this.circuits.get(circuit.name) ?? []) c.setMismatch(error, hint);
    if (this.configTimer === undefined) {
      this.configTimer = setInterval(() => this.recheckConfigs(), this.retryInterval);
      this.configTimer.unref?.();
    }
    return error;
  }

  /** A script call replaced the circuit's configuration in Redis (it had gone unused). */
  private replaced(circuit: RedisCircuit, json: string): void {
    const differences = configDifferences(circuit.config, parseSharedConfig(json));
    this.logger.warn(
      `[nestjs-circuit-breaker] Redis store: breaker "${circuit.name}": the configuration in ` +
        `Redis had not been used for ${this.staleConfigAfter} ms; this instance's replaced it ` +
        `(${describeDifferences(differences, 'now', 'before')})`,
    );
  }

  /** While circuits differ: checks each again, every retryInterval. */
  private recheckConfigs(): void {
    if (this.mismatches.size === 0) {
      clearInterval(this.configTimer);
      this.configTimer = undefined;
      return;
    }
    if (this.currentStatus !== 'shared') return;
    for (const name of this.mismatches.keys()) this.recheck(name);
  }

  /** Syncs one circuit of `name`, with its configuration: it matches again, or replaces a stale one. */
  private recheck(name: string): void {
    const circuit = this.circuits.get(name)?.values().next().value;
    if (circuit === undefined || this.rechecking.has(name)) return;
    this.rechecking.add(name);
    this.run('sync', circuit, [])
      .then(
        (reply) => this.matches(name, reply),
        () => undefined,
      )
      .finally(() => this.rechecking.delete(name));
  }

  /** The configuration in Redis is this instance's again: the circuit's breakers share again. */
  private matches(name: string, reply: FleetReply | undefined): void {
    if (!this.mismatches.delete(name)) return;
    this.logger.log(
      `[nestjs-circuit-breaker] Redis store: breaker "${name}" has the configuration shared in ` +
        `Redis again; it shares state again`,
    );
    for (const c of this.circuits.get(name) ?? []) {
      if (reply !== undefined) c.adoptFromSync(reply);
      c.setMismatch(undefined);
    }
  }

  /**
   * While degraded: asks Redis whether it is back (one question at a time, holding a slot until
   * Redis answers: a PING to a Redis that stopped reading waits with the rest, and its answer is
   * the first sign that it reads again).
   */
  private probeRedis(): void {
    if (
      this.currentStatus !== 'degraded' ||
      this.commands.status !== 'ready' ||
      this.pinging ||
      !this.limit.free
    ) {
      return;
    }
    this.pinging = true;
    this.limit.take();
    this.commands.ping().then(
      () => this.pinged(true),
      () => this.pinged(false),
    );
  }

  private pinged(answered: boolean): void {
    this.pinging = false;
    this.limit.release();
    if (answered) this.answeredWhileDegraded();
  }

  /**
   * Redis answered a PING while the store is degraded: re-synchronise now, or once the outage is
   * `50 ms × outages in a row` old (at most retryInterval), so that a Redis whose answers hover
   * around commandTimeout does not make the breakers switch back and forth on every command.
   */
  private answeredWhileDegraded(): void {
    if (this.currentStatus !== 'degraded') return;
    const wait = this.resyncAt - performance.now();
    if (wait <= 0) {
      void this.resync();
    } else if (this.resyncTimer === undefined) {
      this.resyncTimer = setTimeout(() => {
        this.resyncTimer = undefined;
        void this.resync();
      }, wait);
      this.resyncTimer.unref?.();
    }
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
      const replies = await Promise.all(
        circuits.map((c) =>
          this.run('sync', c, []).catch((error: unknown) => {
            // A circuit whose configuration differs does not hold up the others.
            if (isCircuitConfigMismatchError(error)) return undefined;
            throw error;
          }),
        ),
      );
      // close() may have run while the replies were on their way.
      if ((this.currentStatus as RedisStoreStatus) === 'closed') return;
      const wasDegraded = this.currentStatus === 'degraded';
      this.currentStatus = 'shared';
      this.sharedAt = performance.now();
      clearTimeout(this.startTimer);
      clearInterval(this.retryTimer);
      this.retryTimer = undefined;
      circuits.forEach((c, i) => {
        const reply = replies[i];
        if (reply === undefined) return;
        if (c.mismatched) this.matches(c.name, reply);
        else c.adoptFromSync(reply);
      });
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
      c?: unknown;
      cj?: unknown;
    };
    try {
      parsed = JSON.parse(message) as typeof parsed;
    } catch {
      return;
    }
    if (typeof parsed.n !== 'string') return;
    const set = this.circuits.get(parsed.n);
    if (set === undefined || this.currentStatus !== 'shared') return;
    if (typeof parsed.c === 'string') {
      // A configuration was written for the circuit (it was created, or one replaced another).
      const first = set.values().next().value!;
      if (parsed.c === first.fingerprint) {
        if (first.mismatched) this.recheck(parsed.n);
      } else if (typeof parsed.cj === 'string') {
        this.markMismatch(first, parsed.cj, undefined);
      }
      return;
    }
    const reply: FleetReply = {
      state: String(parsed.s) as FleetReply['state'],
      generation: Number(parsed.g),
      remaining: Number(parsed.rem),
      failedProbes: Number(parsed.fp),
      admitted: false,
      wait: 0,
      id: String(parsed.id),
      reason: String(parsed.r),
      replaced: '',
    };
    // A circuit that decides alone (its configuration differs) takes no part in the fleet's.
    for (const circuit of set) if (!circuit.mismatched) circuit.adopt(reply);
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
    replaced: typeof reply[8] === 'string' ? reply[8] : '',
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
