import { type Breaker, type BreakerFamily, CircuitState, type Disposable } from '../core/index.js';

/** The key of a family's catch-all name: `<family>:__other__`. */
const OTHER = '__other__';

/** The name (and family) a family key's points are recorded under. */
export interface MemberName {
  readonly name: string;
  readonly family: string;
}

/** One `state` reading: a breaker's state, or a family's catch-all counts by state. */
export interface StateReading {
  readonly name: string;
  readonly family?: string;
  /** The breaker's state (1 for it, 0 for the others). */
  readonly state?: CircuitState;
  /** The catch-all's keys in each state. */
  readonly counts?: Readonly<Record<CircuitState, number>>;
}

/**
 * Which of one family's keys have a `circuit_breaker.name` of their own: the first `cap` keys
 * (released keys give their place back), each for the life of its breaker; the others are
 * recorded under `<family>:__other__`. `onKey` is told each key's name (to listen to it).
 */
export class FamilySlots implements Disposable {
  private readonly placed = new Map<string, Breaker>();
  private readonly listening = new Map<Breaker, readonly Disposable[]>();
  private readonly other: MemberName;
  private anyOther = false;
  private readonly watching: readonly Disposable[];

  constructor(
    private readonly family: BreakerFamily,
    private readonly cap: number,
    private readonly onKey?: (breaker: Breaker, name: MemberName) => readonly Disposable[],
  ) {
    this.other = { name: `${family.name}:${OTHER}`, family: family.name };
    for (const key of family.keys()) {
      const breaker = family.peek(key);
      if (breaker !== undefined) this.place(key, breaker);
    }
    this.watching = [
      family.onKeyCreated((e) => this.place(e.key, e.breaker)),
      family.onKeyEvicted((e) => this.unplace(e.key, e.breaker)),
    ];
  }

  /** The name key `key`'s points go under now. */
  nameOf(key: string): MemberName {
    const breaker = this.placed.get(key);
    return breaker === undefined ? this.other : { name: breaker.name, family: this.family.name };
  }

  /** The placed keys' states, and the catch-all's counts once a key went there. */
  *readings(): Iterable<StateReading> {
    const family = this.family.name;
    for (const breaker of this.placed.values()) {
      if (!breaker.isDisposed) yield { name: breaker.name, family, state: breaker.state };
    }
    if (!this.anyOther) return;
    const counts: Record<CircuitState, number> = {
      CLOSED: 0,
      OPEN: 0,
      HALF_OPEN: 0,
      FORCED_OPEN: 0,
      DISABLED: 0,
    };
    for (const key of this.family.keys()) {
      if (this.placed.has(key)) continue;
      const state = this.family.peek(key)?.state;
      if (state !== undefined) counts[state]++;
    }
    yield { ...this.other, counts };
  }

  dispose(): void {
    for (const subscription of this.watching) subscription.dispose();
    for (const listeners of this.listening.values()) listeners.forEach((l) => l.dispose());
    this.listening.clear();
    this.placed.clear();
  }

  private place(key: string, breaker: Breaker): void {
    const own = this.placed.size < this.cap && key !== OTHER;
    if (own) this.placed.set(key, breaker);
    else this.anyOther = true;
    const listeners = this.onKey?.(breaker, own ? this.nameOf(key) : this.other);
    if (listeners !== undefined) this.listening.set(breaker, listeners);
  }

  private unplace(key: string, breaker: Breaker): void {
    this.listening.get(breaker)?.forEach((l) => l.dispose());
    this.listening.delete(breaker);
    if (this.placed.get(key) === breaker) this.placed.delete(key);
  }
}

/** The states, for a reading's series. */
export const ALL_STATES: readonly CircuitState[] = Object.values(CircuitState);
