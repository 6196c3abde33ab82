/**
 * What the README's "Testing" section tells users about fake timers, checked: the breaker's default
 * clock reads `performance.now()` and schedules with the global `setTimeout`, so Jest's modern fake
 * timers move it; `jest.setSystemTime`, legacy fake timers and `doNotFake: ['performance']` do not.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Breaker, CallTimeoutError } from '../lib/core/index.js';

async function openedBreaker(): Promise<Breaker> {
  const breaker = new Breaker({ name: 'fake-timers', failureThreshold: 1, openDuration: 10_000 });
  await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
  expect(breaker.state).toBe('OPEN');
  return breaker;
}

describe('the default clock under fake timers', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('modern fake timers (jest.useFakeTimers()) move it: the open period ends on advanceTimersByTime', async () => {
    jest.useFakeTimers();
    const breaker = await openedBreaker();
    jest.advanceTimersByTime(9_999);
    expect(breaker.state).toBe('OPEN');
    jest.advanceTimersByTime(1);
    expect(breaker.state).toBe('HALF_OPEN');
  });

  it('modern fake timers also run call timeouts', async () => {
    jest.useFakeTimers();
    const breaker = new Breaker({ name: 'fake-timeout', timeout: 500 });
    const call = breaker.execute(() => new Promise(() => undefined)).catch((e: unknown) => e);
    jest.advanceTimersByTime(500);
    expect(await call).toBeInstanceOf(CallTimeoutError);
  });

  it('jest.setSystemTime does not: the clock is monotonic, not the wall clock', async () => {
    jest.useFakeTimers();
    const breaker = await openedBreaker();
    jest.setSystemTime(Date.now() + 60_000);
    expect(breaker.state).toBe('OPEN');
  });

  it("doNotFake: ['performance'] does not", async () => {
    jest.useFakeTimers({ doNotFake: ['performance'] });
    const breaker = await openedBreaker();
    jest.advanceTimersByTime(60_000);
    expect(breaker.state).toBe('OPEN');
  });

  it('legacy fake timers do not', async () => {
    jest.useFakeTimers({ legacyFakeTimers: true });
    const breaker = await openedBreaker();
    jest.advanceTimersByTime(60_000);
    expect(breaker.state).toBe('OPEN');
  });
});
