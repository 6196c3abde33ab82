import {
  BreakerOptionsError,
  type CircuitBinding,
  type CircuitHandle,
  type CircuitStore,
} from '../core/internal.js';
import { configDifferences, describeDifferences, sharedConfig } from './circuit-config.js';
import { ConfigMismatchRegistry } from './config-mismatch.registry.js';
import { isCircuitConfigMismatchError } from './config-mismatch.error.js';
import { FleetChannels } from './fleet-channels.js';
import { type Call, InFlightLimit, type Waiter } from './in-flight-limit.js';
import { OutageRecovery } from './outage-recovery.js';
import { RedisCircuit } from './redis-circuit.js';
import { openConnections, quit, type RedisClient, type ScriptClient } from './redis-connections.js';
import type {
  RedisStoreOptions,
  RedisStoreStats,
  RedisStoreStatus,
} from './redis-store-options.interface.js';
import { type ResolvedRedisStoreOptions, resolveRedisStoreOptions } from './redis-store-options.js';
import { exchange, parseMessage } from './script-protocol.js';
import { storeStats } from './store-stats.js';
import type {
  FleetReply,
  FleetScript,
  OutcomeCounts,
  ScriptRunner,
} from './script-runner.interface.js';

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
 * - One server, Sentinel or Redis Cluster (see the `redis` option). On a Cluster a circuit's keys
 *   share one slot, and its transitions go by sharded pub/sub on its own channel in that slot
 *   (`shardedPubSub`); after a failover the store reads every circuit again from the new master.
 */
export class RedisStore implements CircuitStore, ScriptRunner<RedisCircuit> {
  /** This instance's id in the quorum. */
  readonly instanceId: string;
  /** The key and channel prefix. */
  readonly prefix: string;
  /** @internal */
  readonly quorum: number;
  /** @internal */
  readonly keyTtl: number;
  private readonly commands: ScriptClient;
  private readonly events: RedisClient;
  /** The pub/sub channels: one for every circuit, or (sharded pub/sub) one each. */
  private readonly channels: FleetChannels;
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
  /** The options, checked and with their defaults. */
  private readonly options: ResolvedRedisStoreOptions;
  private readonly limit: InFlightLimit;
  private readonly circuits = new Map<string, Set<RedisCircuit>>();
  /** Circuits whose configuration in Redis differs from this instance's, by name. */
  private readonly mismatches: ConfigMismatchRegistry;
  private readonly recovery: OutageRecovery;
  /** Marks the configurations this instance shares used (see `staleConfigAfter`). */
  private readonly touchTimer: ReturnType<typeof setInterval>;
  private currentStatus: RedisStoreStatus = 'connecting';
  private startTimer: ReturnType<typeof setTimeout> | undefined;
  private syncing = false;

  constructor(options: RedisStoreOptions) {
    const o = (this.options = resolveRedisStoreOptions(options));
    this.quorum = o.quorum;
    this.keyTtl = o.keyTtl;
    this.prefix = o.prefix;
    this.instanceId = o.instanceId;
    this.limit = new InFlightLimit(o.maxInFlight);
    this.mismatches = new ConfigMismatchRegistry({
      logger: o.logger,
      staleConfigAfter: o.staleConfigAfter,
      retryInterval: o.retryInterval,
      status: () => this.currentStatus,
      circuitsNamed: (name) => this.circuits.get(name) ?? [],
      firstNamed: (name) => this.circuits.get(name)?.values().next().value,
      sync: (circuit) => this.run('sync', circuit, []),
    });
    this.recovery = new OutageRecovery(
      {
        status: () => this.currentStatus,
        limit: this.limit,
        commandsReady: () => this.commands.status === 'ready',
        ping: () => this.commands.ping(),
        resync: () => void this.resync(),
      },
      o.retryInterval,
    );

    const connections = openConnections(options.redis, this.prefix, o.retryInterval, o.sharded);
    this.commands = connections.commands;
    this.events = connections.events;
    // ioredis reports connection trouble as 'error' events; the store turns it into `degraded`.
    // (A lost connection also rejects the commands in flight, which gives their slots back.)
    this.commands.on('error', (error: unknown) => this.degrade(error));
    this.commands.on('close', () => this.degrade(new Error('connection to Redis closed')));
    this.commands.on('ready', () => void this.resync());
    // Shared decisions need both connections: transitions arrive on this one.
    this.channels = new FleetChannels(this.events, this.prefix, o.channel, o.sharded, {
      connected: () => void this.resync(),
      lost: (error) => this.degrade(error),
      heard: (channel, message) => this.onMessage(channel, message),
      resubscribed: () => this.refreshAll(),
    });
    this.startTimer = setTimeout(
      () => {
        if (this.currentStatus === 'connecting')
          this.degrade(new Error('Redis did not answer in time'));
      },
      Math.max(o.commandTimeout * 2, 1_000),
    );
    this.startTimer.unref?.();
    this.touchTimer = setInterval(() => this.touch(), Math.max(1, o.staleConfigAfter / 4));
    this.touchTimer.unref?.();
  }

  /** Whether circuits are shared through Redis right now. */
  get status(): RedisStoreStatus {
    return this.currentStatus;
  }

  /** What the store has sent and is sending; see {@link RedisStoreStats}. */
  stats(): RedisStoreStats {
    return storeStats(this.currentStatus, this.limit, this.outcomes, this.mismatches.list());
  }

  /** @internal The channel a circuit's transitions are published on (see `FleetChannels`). */
  channelOf(name: string): string {
    return this.channels.channelOf(name);
  }

  /** @internal Whether transitions go by sharded pub/sub. */
  get sharded(): boolean {
    return this.channels.sharded;
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
    const circuit = new RedisCircuit(this, binding, config, this.mismatches.errorOf(binding.name));
    const first = set === undefined;
    if (set === undefined) this.circuits.set(binding.name, (set = new Set()));
    set.add(circuit);
    circuit.setShared(this.currentStatus === 'shared');
    if (first) this.listen(binding.name);
    else if (this.currentStatus === 'shared') circuit.resync();
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
    this.recovery.stop();
    this.mismatches.stop();
    clearInterval(this.touchTimer);
    const closed = new Error('Redis store is closed');
    for (const waiter of this.limit.clear()) waiter.fail(closed);
    for (const set of this.circuits.values()) for (const c of set) c.setShared(false);
    await Promise.all([
      quit(this.commands, this.options.commandTimeout),
      quit(this.events, this.options.commandTimeout),
    ]);
  }

  // --- ScriptRunner, used by RedisCircuit ------------------------------------------------------

  /** @internal See {@link ScriptRunner.run}. */
  run(
    script: FleetScript,
    circuit: RedisCircuit,
    args: ReadonlyArray<string | number>,
  ): Promise<FleetReply> {
    if (this.currentStatus !== 'shared' && !(script === 'sync' && this.syncing)) {
      return Promise.reject(new Error(`Redis store is ${this.currentStatus}`));
    }
    const { commands, options, mismatches } = this;
    return this.limited((call) =>
      exchange(commands, options.staleConfigAfter, mismatches, script, circuit, args, call),
    );
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
      this.mismatches.forget(circuit.name);
      this.channels.remove(circuit.name);
    }
  }

  // --- internals -------------------------------------------------------------------------------

  /**
   * Runs `work` in one slot within `commandTimeout` (see `InFlightLimit.run`): a timeout or an
   * error degrades the store (but a {@link CircuitConfigMismatchError} does not).
   */
  private limited<T>(work: (call: Call) => Promise<T>): Promise<T> {
    return this.limit.run(work, this.options.commandTimeout, {
      failed: (error) => {
        if (!isCircuitConfigMismatchError(error)) this.degrade(error);
      },
      // An answer while degraded (a late one, to a command that timed out): Redis may be
      // back. Ask it now rather than at the next retry; a fresh PING is the evidence (this
      // answer may only have been read late, by a busy event loop).
      answered: () => {
        if (this.currentStatus === 'degraded') this.recovery.probe();
      },
    });
  }

  /**
   * Listens for the circuit `name`'s transitions (with sharded pub/sub, its own channel), then
   * reads its fleet state: read before, a transition in between would go unheard.
   */
  private listen(name: string): void {
    this.channels.add(name).then(
      () => {
        if (this.currentStatus === 'shared')
          for (const c of this.circuits.get(name) ?? []) c.resync();
      },
      (error: unknown) => this.degrade(error),
    );
  }

  /** Reads every circuit's fleet state again (transitions may have gone unheard). */
  private refreshAll(): void {
    if (this.currentStatus !== 'shared') return;
    for (const set of this.circuits.values()) for (const c of set) c.resync();
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

  /** Switches every circuit to local decisions; logs once per outage. */
  private degrade(error: unknown): void {
    if (this.currentStatus === 'degraded' || this.currentStatus === 'closed') return;
    const wasConnecting = this.currentStatus === 'connecting';
    this.currentStatus = 'degraded';
    this.recovery.began();
    this.options.logger.warn(
      `[nestjs-circuit-breaker] Redis store ${wasConnecting ? 'could not reach' : 'lost'} Redis ` +
        `(${describeError(error)}); breakers decide locally until it is back`,
    );
    // Callers waiting for a slot decide locally now, rather than at their timeout.
    for (const waiter of this.limit.clear()) waiter.fail(error);
    for (const set of this.circuits.values()) for (const c of set) c.setShared(false, error);
  }

  /** Reads every circuit's fleet state again, then switches back to shared decisions. */
  private async resync(): Promise<void> {
    if (
      this.currentStatus === 'shared' ||
      this.currentStatus === 'closed' ||
      this.syncing ||
      !this.channels.subscribed ||
      this.commands.status !== 'ready'
    ) {
      return;
    }
    this.syncing = true;
    try {
      // Sharded pub/sub: the channels whose subscription failed, before their state is read.
      await this.channels.ensure();
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
      this.recovery.ended();
      clearTimeout(this.startTimer);
      circuits.forEach((c, i) => {
        const reply = replies[i];
        if (reply === undefined) return;
        if (c.mismatched) this.mismatches.matches(c.name, reply);
        else c.adoptFromSync(reply);
      });
      for (const set of this.circuits.values()) for (const c of set) c.setShared(true);
      if (wasDegraded)
        this.options.logger.log(
          '[nestjs-circuit-breaker] Redis store is back; breakers share state again',
        );
    } catch {
      // run() has degraded the store already; the retry timer tries again.
    } finally {
      this.syncing = false;
    }
  }

  private onMessage(channel: string, message: string): void {
    const parsed = parseMessage(message);
    if (parsed === undefined || !this.channels.carries(channel, parsed.name)) return;
    const set = this.circuits.get(parsed.name);
    if (set === undefined || this.currentStatus !== 'shared') return;
    if (parsed.kind === 'config') {
      const first = set.values().next().value!;
      if (parsed.fingerprint === first.fingerprint) {
        if (first.mismatched) this.mismatches.recheck(parsed.name);
      } else if (parsed.json !== undefined) {
        this.mismatches.mark(first, parsed.json, undefined);
      }
      return;
    }
    // A circuit that decides alone (its configuration differs) takes no part in the fleet's.
    for (const circuit of set) if (!circuit.mismatched) circuit.adopt(parsed.reply);
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
