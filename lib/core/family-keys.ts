/** One key of a family: what it holds and when it was last used (clock reading, in ms). */
export interface KeySlot<V> {
  readonly key: string;
  readonly value: V;
  lastUsed: number;
}

/** A slot in the use order: a doubly linked list, so that a use moves it in O(1). */
interface Link<V> extends KeySlot<V> {
  older: Link<V> | undefined;
  newer: Link<V> | undefined;
}

/**
 * Keys in least-recently-used order, with lazy expiry and eviction: no timer, and every operation
 * amortised O(1). The keys are found through a `Map` and kept in use order in a linked list through
 * their slots (a use relinks one slot; moving a key to the end of a `Map` would cost a delete and
 * an insert on every use). A key that is busy when a sweep reaches it (the caller's `isIdle` says
 * no) counts as used then and goes to the end, so that one busy key cannot stall a sweep; each
 * sweep looks at a bounded number of keys.
 *
 * Package-internal: the bookkeeping of `BreakerFamily`.
 */
export class KeyTable<V> {
  private readonly slots = new Map<string, Link<V>>();
  /** The least recently used key. */
  private oldest: Link<V> | undefined = undefined;
  /** The most recently used key. */
  private newest: Link<V> | undefined = undefined;

  get size(): number {
    return this.slots.size;
  }

  /** The slot of `key`, without counting a use. */
  peek(key: string): KeySlot<V> | undefined {
    return this.slots.get(key);
  }

  /** The slot of `key`, counted as used at `now` (it becomes the most recently used). */
  use(key: string, now: number): KeySlot<V> | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    this.moveToEnd(slot, now);
    return slot;
  }

  /** Adds a new key as the most recently used. */
  insert(key: string, value: V, now: number): KeySlot<V> {
    const slot: Link<V> = { key, value, lastUsed: now, older: undefined, newer: undefined };
    this.slots.set(key, slot);
    this.append(slot);
    return slot;
  }

  /** Removes `key`; returns its slot, if it was there. */
  remove(key: string): KeySlot<V> | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    this.slots.delete(key);
    this.unlink(slot);
    return slot;
  }

  /** Every key, least recently used first. */
  *keys(): IterableIterator<string> {
    for (let slot = this.oldest; slot !== undefined; slot = slot.newer) yield slot.key;
  }

  /** Every slot, in no particular order. */
  values(): IterableIterator<KeySlot<V>> {
    return this.slots.values();
  }

  /** Removes every key. */
  clear(): void {
    this.slots.clear();
    this.oldest = undefined;
    this.newest = undefined;
  }

  /**
   * Removes keys unused since `now - timeout` that are idle, oldest first, looking at `limit`
   * keys at most, and hands each to `evicted`. Returns how many were removed.
   */
  expire(
    now: number,
    timeout: number,
    limit: number,
    isIdle: (value: V) => boolean,
    evicted: (slot: KeySlot<V>) => void,
  ): number {
    let removed = 0;
    for (let looked = 0; looked < limit; looked++) {
      const oldest = this.oldest;
      if (oldest === undefined || now - oldest.lastUsed < timeout) break;
      if (isIdle(oldest.value)) {
        this.remove(oldest.key);
        removed++;
        evicted(oldest);
      } else {
        this.moveToEnd(oldest, now);
      }
    }
    return removed;
  }

  /**
   * Removes the least recently used idle key, looking at `limit` keys at most (busy ones move to
   * the end). Returns its slot, or `undefined` if none of them was idle.
   */
  evictOne(now: number, limit: number, isIdle: (value: V) => boolean): KeySlot<V> | undefined {
    for (let looked = 0; looked < limit; looked++) {
      const oldest = this.oldest;
      if (oldest === undefined) return undefined;
      if (isIdle(oldest.value)) return this.remove(oldest.key);
      this.moveToEnd(oldest, now);
    }
    return undefined;
  }

  private moveToEnd(slot: Link<V>, now: number): void {
    if (slot.lastUsed < now) slot.lastUsed = now;
    if (this.newest === slot) return;
    this.unlink(slot);
    this.append(slot);
  }

  private append(slot: Link<V>): void {
    slot.older = this.newest;
    slot.newer = undefined;
    if (this.newest === undefined) this.oldest = slot;
    else this.newest.newer = slot;
    this.newest = slot;
  }

  private unlink(slot: Link<V>): void {
    if (slot.older === undefined) this.oldest = slot.newer;
    else slot.older.newer = slot.newer;
    if (slot.newer === undefined) this.newest = slot.older;
    else slot.newer.older = slot.older;
    slot.older = undefined;
    slot.newer = undefined;
  }
}
