import { describe, expect, it } from '@jest/globals';
import { ManualClock, systemClock } from '../../lib/core/index.js';

describe('ManualClock', () => {
  it('runs timers in due order during advance, at their due time', () => {
    const clock = new ManualClock(100);
    const fired: Array<[string, number]> = [];
    clock.setTimeout(() => fired.push(['b', clock.now()]), 20);
    clock.setTimeout(() => fired.push(['a', clock.now()]), 10);
    const cancelled = clock.setTimeout(() => fired.push(['x', clock.now()]), 15);
    clock.clearTimeout(cancelled);
    expect(clock.pendingTimers).toBe(2);
    clock.advance(15);
    expect(fired).toEqual([['a', 110]]);
    clock.advance(100);
    expect(fired).toEqual([
      ['a', 110],
      ['b', 120],
    ]);
    expect(clock.now()).toBe(215);
    expect(clock.pendingTimers).toBe(0);
  });

  it('runs timers scheduled by timers within the same advance', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 5);
    }, 5);
    clock.advance(10);
    expect(fired).toEqual([5, 10]);
  });

  it('refuses to move backwards through advance, but set() can (to test a clock stepping back)', () => {
    const clock = new ManualClock(50);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    clock.set(10);
    expect(clock.now()).toBe(10);
  });
});

describe('systemClock', () => {
  it('reads milliseconds since the epoch and never goes back', () => {
    const a = systemClock.now();
    const b = systemClock.now();
    expect(Math.abs(a - Date.now())).toBeLessThan(60_000);
    expect(b).toBeGreaterThanOrEqual(a);
  });
});

describe('ManualClock at scale', () => {
  it('runs 20,000 timers scheduled in random order in due order, skipping cleared ones', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    const handles: unknown[] = [];
    let seed = 3;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const at = seed % 10_000;
      handles.push(clock.setTimeout(() => fired.push(at), at));
    }
    for (let i = 0; i < handles.length; i += 2) clock.clearTimeout(handles[i]);
    expect(clock.pendingTimers).toBe(10_000);
    clock.advance(10_000);
    expect(fired).toHaveLength(10_000);
    expect(fired.every((at, i) => i === 0 || fired[i - 1]! <= at)).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });
});
