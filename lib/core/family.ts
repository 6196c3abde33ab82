import { Breaker } from './breaker.js';
import { CircuitState } from './circuit-state.js';
import { describeValue } from './describe.js';
import { BreakerDisposedError, BreakerOptionsError, isBreakerOptionsError } from './errors.js';
import { type Disposable, Listeners } from './events.js';
import { type KeySlot, KeyTable } from './family-keys.js';
import {
  type BreakerFamilyOptions,
  checkFamilyKey,
  FAMILY_KEY_SEPARATOR,
  type FamilyEvictionEvent,
  type FamilyEvictionReason,
  type FamilyKeyEvent,
  type FamilyStats,
  type ResolvedFamilyOptions,
  resolveFamilyOptions,
} from './family-options.js';
import { mergeBreakerOptions } from './merge-options.js';
import type { BreakerOptions } from './options.js';

/** Keys a sweep looks at, at most, per use of the family: what keeps every use O(1). */
const SWEEP_LIMIT = 4;

interface FamilyEventMap {
  created: FamilyKeyEvent;
  evicted: FamilyEvictionEvent;
}

/**
 * Whether a key's breaker may be released: nothing running or queued, and its circuit `CLOSED`, or
 * `HALF_OPEN` with no probe running (its open period is over). An `OPEN` circuit (before its
 * period ends), a running probe, and a circuit held open or disabled by hand are kept.
 */
function isIdle(breaker: Breaker): boolean {
  const state = breaker.state;
  if (state !== CircuitState.Closed && state !== CircuitState.HalfOpen) return false;
  const stats = breaker.stats();
  return stats.inFlight === 0 && stats.queued === 0;
}

/**
 * A family of breakers sharing one configuration, one per key (a downstream host, a tenant, a
 * shard), each created on first use of its key:
 *
 * ```ts
 * const carriers = new BreakerFamily({ name: 'carrier', failureThreshold: 3, maxKeys: 500 });
 * await carriers.get('dhl').execute(() => ship(order));
 * ```
 *
 * Each key's breaker is an ordinary {@link Breaker} named `<family>:<key>` (`carrier:dhl`), so a
 * shared store shares each key fleet-wide. The family is bounded without a timer: creating a key
 * beyond `maxKeys` releases the least recently used idle key, and an idle key unused for
 * `idleTimeout` is released on a later use of the family. A released key's breaker is disposed
 * (no listener, timer or store binding is left) and a later use of the key starts a fresh one.
 * Get the breaker for each call (`family.get(key).execute(...)`) rather than keeping it: that is
 * what counts as a use, and a kept breaker may have been released.
 */
export class BreakerFamily {
  private readonly resolved: ResolvedFamilyOptions;
  private readonly table = new KeyTable<Breaker>();
  private readonly listeners: Listeners<FamilyEventMap>;
  private disposed = false;
  private nCreated = 0;
  private nOverCap = 0;
  private readonly nEvicted: Record<FamilyEvictionReason, number> = {
    capacity: 0,
    idle: 0,
    deleted: 0,
  };

  /** @throws BreakerOptionsError if an option (the family's or a shared one) is invalid. */
  constructor(options: BreakerFamilyOptions) {
    this.resolved = resolveFamilyOptions(options);
    this.listeners = new Listeners(this.resolved.onListenerError);
  }

  /** The family's name. */
  get name(): string {
    return this.resolved.name;
  }

  /** Most keys kept at once (see {@link BreakerFamilyOptions.maxKeys}). */
  get maxKeys(): number {
    return this.resolved.maxKeys;
  }

  /** Milliseconds an idle key is kept after its last use; `Infinity` for ever. */
  get idleTimeout(): number {
    return this.resolved.idleTimeout;
  }

  /** Keys held now. */
  get size(): number {
    return this.table.size;
  }

  /** Whether `dispose()` has been called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** The name of `key`'s breaker: `<family>:<key>`. @throws TypeError for an invalid key. */
  nameOf(key: string): string {
    checkFamilyKey(this.name, key);
    return `${this.name}${FAMILY_KEY_SEPARATOR}${key}`;
  }

  /**
   * The breaker of `key`, created on first use from the family's options merged with the key's
   * `keyOptions`. Counts as a use of the key, and releases expired idle keys (a few per use).
   *
   * @throws TypeError if `key` is not a non-empty string of at most 256 characters.
   * @throws BreakerOptionsError if the key's options are invalid (naming the family and the key).
   * @throws BreakerDisposedError after `dispose()`.
   */
  get(key: string): Breaker {
    if (this.disposed) throw new BreakerDisposedError(this.name);
    const now = this.resolved.clock.now();
    const slot = this.table.use(key, now);
    if (slot !== undefined) {
      this.sweepSome(now, SWEEP_LIMIT);
      return slot.value;
    }
    checkFamilyKey(this.name, key);
    const breaker = this.build(key);
    this.sweepSome(now, SWEEP_LIMIT);
    if (this.table.size >= this.resolved.maxKeys) this.makeRoom(now);
    this.table.insert(key, breaker, now);
    this.nCreated++;
    if (this.listeners.has('created')) {
      this.listeners.emit('created', { family: this.name, key, breaker });
    }
    return breaker;
  }

  /** The breaker of `key` if it is held, without creating it or counting a use. */
  peek(key: string): Breaker | undefined {
    return this.table.peek(key)?.value;
  }

  /** Whether `key` is held now (no use counted). */
  has(key: string): boolean {
    return this.table.peek(key) !== undefined;
  }

  /** The keys held now, least recently used first. */
  keys(): string[] {
    return [...this.table.keys()];
  }

  /**
   * Releases `key` now, whatever its state: its breaker is disposed (calls still running finish
   * and are counted; later calls on it reject with `BreakerDisposedError`). Returns whether it was
   * held.
   */
  delete(key: string): boolean {
    const slot = this.table.remove(key);
    if (slot === undefined) return false;
    this.release(slot, 'deleted');
    return true;
  }

  /**
   * Releases every idle key unused for `idleTimeout`, now rather than a few per use. Returns how
   * many were released.
   */
  sweep(): number {
    return this.sweepSome(this.resolved.clock.now(), this.table.size);
  }

  /** Releases expired idle keys, looking at `limit` keys at most, and gives room back. */
  private sweepSome(now: number, limit: number): number {
    const { idleTimeout, maxKeys } = this.resolved;
    let released = 0;
    if (idleTimeout !== Infinity) {
      released = this.table.expire(now, idleTimeout, limit, isIdle, (slot) =>
        this.release(slot, 'idle'),
      );
    }
    // Over the cap (every key was busy when one was added): give room back as keys become idle.
    if (this.table.size > maxKeys) {
      const slot = this.table.evictOne(now, SWEEP_LIMIT, isIdle);
      if (slot !== undefined) {
        this.release(slot, 'capacity');
        released++;
      }
    }
    return released;
  }

  /** Statistics of the family: keys by state, creations, releases. Looks at every key. */
  stats(): FamilyStats {
    const states: Record<CircuitState, number> = {
      CLOSED: 0,
      OPEN: 0,
      HALF_OPEN: 0,
      FORCED_OPEN: 0,
      DISABLED: 0,
    };
    for (const slot of this.table.values()) states[slot.value.state]++;
    return {
      name: this.name,
      keys: this.table.size,
      maxKeys: this.resolved.maxKeys,
      idleTimeout: this.resolved.idleTimeout,
      states,
      created: this.nCreated,
      evicted: { ...this.nEvicted },
      overCap: this.nOverCap,
    };
  }

  /** Fires when a key's breaker is created, before `get()` returns it. */
  onKeyCreated(listener: (event: FamilyKeyEvent) => void): Disposable {
    return this.disposed ? noop : this.listeners.add('created', listener);
  }

  /** Fires when a key is released, after its breaker was disposed. */
  onKeyEvicted(listener: (event: FamilyEvictionEvent) => void): Disposable {
    return this.disposed ? noop : this.listeners.add('evicted', listener);
  }

  /**
   * Disposes every key's breaker and forgets the keys; later `get()` calls throw
   * `BreakerDisposedError`. No `onKeyEvicted` event is sent; listeners are removed. Idempotent.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const slot of this.table.values()) slot.value.dispose();
    this.table.clear();
    this.listeners.clear();
  }

  /** `using family = new BreakerFamily(...)` disposes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  private build(key: string): Breaker {
    const name = this.nameOf(key);
    const override = this.resolved.overrideFor(key);
    if (
      override !== undefined &&
      (typeof override !== 'object' ||
        override === null ||
        Array.isArray(override) ||
        'name' in override)
    ) {
      throw new BreakerOptionsError(
        name,
        'keyOptions',
        `an object of breaker options without "name", or undefined, for key "${key}" of family "${this.name}"`,
        describeValue(override),
      );
    }
    const options = (
      override === undefined
        ? { ...this.resolved.base, name }
        : { ...mergeBreakerOptions(this.resolved.base, override), name }
    ) as BreakerOptions;
    try {
      return this.createMember(options, key);
    } catch (error) {
      if (isBreakerOptionsError(error) && override !== undefined) {
        error.message += ` (in keyOptions of family "${this.name}" for key "${key}")`;
      }
      throw error;
    }
  }

  /**
   * Makes a key's breaker from its merged options (named `<family>:<key>`). A hook for
   * integrations that add to every member's options (the Nest registry adds its 4xx rule to
   * `ignore`); the default is `new Breaker(options)`.
   */
  protected createMember(options: BreakerOptions, _key: string): Breaker {
    return new Breaker(options);
  }

  /** At the cap: release the least recently used idle key, or go over the cap and count it. */
  private makeRoom(now: number): void {
    const slot = this.table.evictOne(now, 2 * SWEEP_LIMIT, isIdle);
    if (slot === undefined) this.nOverCap++;
    else this.release(slot, 'capacity');
  }

  private release(slot: KeySlot<Breaker>, reason: FamilyEvictionReason): void {
    slot.value.dispose();
    this.nEvicted[reason]++;
    if (this.listeners.has('evicted')) {
      this.listeners.emit('evicted', {
        family: this.name,
        key: slot.key,
        breaker: slot.value,
        reason,
      });
    }
  }
}

const noop: Disposable = { dispose: () => undefined };
