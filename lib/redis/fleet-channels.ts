import type { Cluster } from 'ioredis';
import type { RedisClient } from './redis-connections.js';

/** @internal What the channels tell their store. */
export interface FleetChannelsHost {
  /** The pub/sub connection is up and listens on every channel (transitions are heard again). */
  connected(): void;
  /** The pub/sub connection (or a subscription) was lost: transitions may go unheard. */
  lost(error: unknown): void;
  /** A message on one of the channels. */
  heard(channel: string, message: string): void;
  /**
   * A Cluster's sharded subscriptions moved to the shards' new masters (after a failover): what
   * was published on the way may have gone unheard.
   */
  resubscribed(): void;
}

/**
 * @internal The store's pub/sub connection and its channels. Classic pub/sub: one channel,
 * `<prefix>events`, for every circuit (a Cluster forwards a `PUBLISH` to every node). Sharded
 * pub/sub (a Cluster, Redis >= 7.0): one channel a circuit, `<prefix>{<name>}:events`, in the
 * circuit's slot, so the scripts `SPUBLISH` on the shard that runs them and only the instances
 * that subscribed there hear it; a circuit is subscribed while one of its breakers is bound.
 */
export class FleetChannels {
  /** Whether transitions are heard: the connection is up and every channel subscribed. */
  subscribed = false;
  /** Circuits with a bound breaker; sharded: those whose channel is subscribed. */
  private readonly names = new Set<string>();
  private readonly confirmed = new Set<string>();

  constructor(
    private readonly events: RedisClient,
    private readonly prefix: string,
    private readonly channel: string,
    readonly sharded: boolean,
    host: FleetChannelsHost,
  ) {
    events.on('error', () => undefined);
    events.on('close', () => {
      this.subscribed = false;
      this.confirmed.clear();
      host.lost(new Error('pub/sub connection to Redis closed'));
    });
    events.on('ready', () => {
      this.ensure().then(
        () => {
          this.subscribed = true;
          host.connected();
        },
        (error: unknown) => host.lost(error),
      );
    });
    events.on(sharded ? 'smessage' : 'message', (channel: string, message: string) =>
      host.heard(channel, message),
    );
    if (sharded) events.on('subscribersReady', () => host.resubscribed());
  }

  /** The channel the circuit `name`'s transitions are published on. */
  channelOf(name: string): string {
    return this.sharded ? `${this.prefix}{${name}}:events` : this.channel;
  }

  /** Whether `channel` is where the circuit `name` publishes. */
  carries(channel: string, name: string): boolean {
    return channel === this.channelOf(name);
  }

  /**
   * Listens for the circuit `name` (a breaker of that name was bound). Resolves when its
   * transitions are heard; rejects if the subscription failed.
   */
  add(name: string): Promise<void> {
    this.names.add(name);
    return this.subscribed ? this.ensure() : Promise.resolve();
  }

  /** Stops listening for the circuit `name` (its last breaker was released). */
  remove(name: string): void {
    this.names.delete(name);
    if (!this.sharded || !this.confirmed.delete(name)) return;
    (this.events as Cluster).sunsubscribe(this.channelOf(name)).catch(() => undefined);
  }

  /** Subscribes what is not subscribed yet: the one channel, or each circuit's. */
  async ensure(): Promise<void> {
    if (!this.sharded) {
      if (!this.subscribed) await this.events.subscribe(this.channel);
      return;
    }
    const cluster = this.events as Cluster;
    const missing = [...this.names].filter((name) => !this.confirmed.has(name));
    await Promise.all(
      missing.map(async (name) => {
        await cluster.ssubscribe(this.channelOf(name));
        if (this.names.has(name)) this.confirmed.add(name);
      }),
    );
  }
}
