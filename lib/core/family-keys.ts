/** One key of a family: what it holds and when it was last used (clock reading, in ms). */
export interface KeySlot<V> {
  readonly key: string;
  readonly value: V;
  lastUsed: number;
}

/**
 * Keys in least-recently-used order, with lazy expiry and eviction: no timer, and every operation
 * amortised O(1). A `Map` keeps insertion order, so moving a key to the end on use keeps the least
 * recently used one first. A key that is busy when a sweep reaches it (the caller's `isIdle` says
 * no) counts as used then and goes to the end, so that one busy key cannot stall a sweep; each
 * sweep looks at a bounded number of keys.
 *
 * Package-internal: the bookkeeping of `BreakerFamily`.
 */
export class KeyTable<V> {
  private readonly slots = new Map<string, KeySlot<V>>();
  /** The most recently used key: using it again needs no move. */
  private newest: KeySlot<V> | undefined = undefined;

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
    const slot: KeySlot<V> = { key, value, lastUsed: now };
    this.slots.set(key, slot);
    this.newest = slot;
    return slot;
  }

  /** Removes `key`; returns its slot, if it was there. */
  remove(key: string): KeySlot<V> | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    this.slots.delete(key);
    if (this.newest === slot) this.newest = undefined;
    return slot;
  }

  /** Every key, least recently used first. */
  keys(): IterableIterator<string> {
    return this.slots.keys();
  }

  /** Every slot, least recently used first. */
  values(): IterableIterator<KeySlot<V>> {
    return this.slots.values();
  }

  /** Removes every key. */
  clear(): void {
    this.slots.clear();
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
      const oldest = this.oldest();
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
      const oldest = this.oldest();
      if (oldest === undefined) return undefined;
      if (isIdle(oldest.value)) return this.remove(oldest.key);
      this.moveToEnd(oldest, now);
    }
    return undefined;
  }

  private oldest(): KeySlot<V> | undefined {
    return this.slots.values().next().value;
  }

  private moveToEnd(slot: KeySlot<V>, now: number): void {
    if (slot.lastUsed < now) slot.lastUsed = now;
    if (this.newest === slot) return;
    this.slots.delete(slot.key);
    this.slots.set(slot.key, slot);
    this.newest = slot;
  }
}
