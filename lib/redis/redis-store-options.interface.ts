import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import type { ConfigDifference } from './circuit-config.js';

/** Options of a {@link RedisStore}. Durations are in milliseconds. */
export interface RedisStoreOptions {
  /**
   * Where Redis is. One server: a URL (`redis://127.0.0.1:6379`), ioredis options, or an ioredis
   * client whose options are copied. Sentinel: ioredis options with `sentinels` and `name` (the
   * master group), or such a client. Redis Cluster: `{ cluster: startupNodes, options }` (ioredis
   * `Cluster` arguments), or an ioredis `Cluster` whose startup nodes and options are copied.
   *
   * The store opens its own two connections (commands, and pub/sub; on a Cluster, two `Cluster`
   * clients) and closes them in `close()`; a client you pass is never used or closed by the store.
   */
  redis: string | RedisOptions | Redis | RedisClusterConfig | Cluster;
  /**
   * On Redis Cluster: send transitions by sharded pub/sub (`SPUBLISH` / `SSUBSCRIBE`, Redis >=
   * 7.0), each circuit on its own channel `<prefix>{<name>}:events` in the circuit's slot, so a
   * message goes only to the shard that holds the circuit. `false`: classic `PUBLISH` on the one
   * channel `<prefix>events`, which the Cluster forwards to every node (needed on servers older
   * than 7.0, which have no sharded pub/sub). Every instance sharing a circuit must use the same
   * value (it is part of the circuit's configuration). Ignored outside a Cluster.
   * @default true
   */
  shardedPubSub?: boolean;
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

/** A Redis Cluster to share circuits through: the arguments of ioredis's `new Cluster()`. */
export interface RedisClusterConfig {
  /** Startup nodes: some of the cluster's nodes (`{ host, port }`, or a port or URL). */
  cluster: ClusterNode[];
  /** ioredis `Cluster` options (node options go in `redisOptions`). @default {} */
  options?: ClusterOptions;
}

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
