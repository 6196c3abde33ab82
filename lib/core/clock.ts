/** An opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * The source of time for a breaker. Inject one (for example {@link ManualClock}) to control time
 * exactly in tests.
 */
export interface Clock {
  /** Current time in milliseconds. Must not go backwards; if it does, breakers hold their last reading. */
  now(): number;
  /** Schedules `callback` after `ms` milliseconds. Used only for call timeouts and half-open waits. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  /** Cancels a callback scheduled with {@link Clock.setTimeout}. */
  clearTimeout(handle: TimerHandle): void;
}

/** Read once: `performance.timeOrigin` is a native getter, and fixed for the life of the process. */
const timeOrigin = performance.timeOrigin;

/**
 * The default clock: monotonic (`performance.now()`), anchored to the Unix epoch at process start,
 * so readings are milliseconds since 1970 that never jump when the wall clock is adjusted.
 */
export const systemClock: Clock = {
  now: () => timeOrigin + performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface ManualTimer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/** Orders timers by due time, then by scheduling order. */
function before(a: ManualTimer, b: ManualTimer): boolean {
  return a.at < b.at || (a.at === b.at && a.id < b.id);
}

/**
 * A clock that moves only when told to. Timers scheduled on it run, in due order (ties in the order
 * they were scheduled), during {@link ManualClock.advance}, with `now()` reading their due time.
 * Meant for tests:
 *
 * ```ts
 * const clock = new ManualClock();
 * const breaker = new Breaker({ name: 'db', clock, openDuration: 1_000 });
 * clock.advance(1_000);
 * ```
 */
export class ManualClock implements Clock {
  private current: number;
  private nextId = 1;
  /**
   * A binary min-heap of timers; cleared ones stay until they reach the top (lazy deletion), or
   * until they are more than half of it.
   */
  private heap: ManualTimer[] = [];
  private readonly live = new Set<number>();

  /** @param start the initial reading, in milliseconds. @default 0 */
  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = { id: this.nextId++, at: this.current + Math.max(0, ms), callback };
    this.live.add(timer.id);
    this.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    if (!this.live.delete(handle as number)) return;
    // Cleared timers stay in the heap until they reach the top; when they are most of it, drop
    // them all (amortised O(1) per timer), so a clock that never advances does not keep every
    // cleared callback, and what it captured, alive.
    const heap = this.heap;
    if (heap.length > 64 && heap.length > 2 * this.live.size) {
      this.heap = [];
      for (const timer of heap) if (this.live.has(timer.id)) this.push(timer);
    }
  }

  /** Number of timers scheduled and not yet run or cleared. */
  get pendingTimers(): number {
    return this.live.size;
  }

  /** Moves time forward by `ms` milliseconds, running every timer that falls due, in order. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance expects ms >= 0, received ${ms}`);
    const target = this.current + ms;
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.at > target) break;
      this.pop();
      if (!this.live.delete(top.id)) continue;
      this.current = Math.max(this.current, top.at);
      top.callback();
    }
    this.current = target;
  }

  /** Sets the reading to `time`, which may be in the past (to test a clock going backwards). */
  set(time: number): void {
    this.current = time;
  }

  private push(timer: ManualTimer): void {
    const heap = this.heap;
    let i = heap.push(timer) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
      i = smallest;
    }
  }
}
