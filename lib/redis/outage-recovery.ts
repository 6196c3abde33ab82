import type { InFlightLimit } from './in-flight-limit.js';
import type { RedisStoreStatus } from './redis-store-options.interface.js';

/** @internal What the recovery needs from its store. */
export interface OutageRecoveryHost {
  status(): RedisStoreStatus;
  /** The store's command slots: a PING takes one, as any command does. */
  readonly limit: InFlightLimit;
  /** Whether the command connection is up (ioredis status `ready`). */
  commandsReady(): boolean;
  ping(): Promise<unknown>;
  /** Reads every circuit's fleet state again, then switches back to shared decisions. */
  resync(): void;
}

/**
 * @internal How a degraded store finds Redis again: every `retryInterval` (and at once after a late
 * answer) it asks Redis with a PING; an answer ends the outage once the outage is
 * `50 ms × outages in a row` old, at most `retryInterval` (see the `retryInterval` option).
 */
export class OutageRecovery {
  /**
   * Outages in a row, each starting less than retryInterval after the store shared again: they
   * space re-synchronisations out, as ioredis spaces reconnections (see `retryInterval`).
   */
  private outages = 0;
  /** When the store last became shared, and the earliest it may again (performance.now(), ms). */
  private sharedAt = -Infinity;
  private resyncAt = 0;
  private resyncTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setInterval> | undefined;
  private pinging = false;

  constructor(
    private readonly host: OutageRecoveryHost,
    private readonly retryInterval: number,
  ) {}

  /** The store became degraded: counts the outage, and starts asking Redis. */
  began(): void {
    const now = performance.now();
    this.outages = now - this.sharedAt < this.retryInterval ? this.outages + 1 : 1;
    this.resyncAt = now + Math.min(50 * this.outages, this.retryInterval);
    this.retryTimer ??= setInterval(() => this.probe(), this.retryInterval);
    this.retryTimer.unref?.();
  }

  /** The store shares again: stops asking. */
  ended(): void {
    this.sharedAt = performance.now();
    clearInterval(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** The store closed. */
  stop(): void {
    clearInterval(this.retryTimer);
    clearTimeout(this.resyncTimer);
  }

  /**
   * While degraded: asks Redis whether it is back (one question at a time, holding a slot until
   * Redis answers: a PING to a Redis that stopped reading waits with the rest, and its answer is
   * the first sign that it reads again).
   */
  probe(): void {
    const limit = this.host.limit;
    if (
      this.host.status() !== 'degraded' ||
      !this.host.commandsReady() ||
      this.pinging ||
      !limit.free
    ) {
      return;
    }
    this.pinging = true;
    limit.take();
    this.host.ping().then(
      () => this.pinged(true),
      () => this.pinged(false),
    );
  }

  private pinged(answered: boolean): void {
    this.pinging = false;
    this.host.limit.release();
    if (answered) this.answeredWhileDegraded();
  }

  /**
   * Redis answered a PING while the store is degraded: re-synchronise now, or once the outage is
   * `50 ms × outages in a row` old (at most retryInterval), so that a Redis whose answers hover
   * around commandTimeout does not make the breakers switch back and forth on every command.
   */
  private answeredWhileDegraded(): void {
    if (this.host.status() !== 'degraded') return;
    const wait = this.resyncAt - performance.now();
    if (wait <= 0) {
      this.host.resync();
    } else if (this.resyncTimer === undefined) {
      this.resyncTimer = setTimeout(() => {
        this.resyncTimer = undefined;
        this.host.resync();
      }, wait);
      this.resyncTimer.unref?.();
    }
  }
}
