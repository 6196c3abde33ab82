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

/**
 * A clock that moves only when told to. Timers scheduled on it run, in order, during
 * {@link ManualClock.advance}. Meant for tests:
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
  private timers: ManualTimer[] = [];

  /** @param start the initial reading, in milliseconds. @default 0 */
  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = { id: this.nextId++, at: this.current + Math.max(0, ms), callback };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Number of timers scheduled and not yet run or cleared. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms` milliseconds, running every timer that falls due, in order. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance expects ms >= 0, received ${ms}`);
    const target = this.current + ms;
    for (;;) {
      let due: ManualTimer | undefined;
      for (const t of this.timers) {
        if (t.at <= target && (due === undefined || t.at < due.at)) due = t;
      }
      if (due === undefined) break;
      const fired = due;
      this.timers = this.timers.filter((t) => t !== fired);
      this.current = Math.max(this.current, fired.at);
      fired.callback();
    }
    this.current = target;
  }

  /** Sets the reading to `time`, which may be in the past (to test a clock going backwards). */
  set(time: number): void {
    this.current = time;
  }
}
