/**
 * resilience4j's reporting convention, written once (lib/core/window-report.ts) for the Prometheus
 * gauges and the ops endpoints: rates in percent, -1 below the minimum number of calls, the
 * window's calls by outcome, thresholds in percent or -1 for a rate the policy does not watch.
 */
import { describe, expect, it } from '@jest/globals';
import { Breaker, ManualClock } from '../../lib/core/index.js';
import { minimumCallsOf, rateThresholds, windowReport } from '../../lib/core/internal.js';

const fail = () => Promise.reject(new Error('x'));
const ok = () => Promise.resolve(1);

async function run(breaker: Breaker, calls: Array<() => Promise<number>>) {
  for (const call of calls) await breaker.execute(call).catch(() => undefined);
  return windowReport(breaker.stats(), breaker.options.circuit);
}

describe('windowReport', () => {
  it('reports -1 rates until the window holds minimumCalls calls, then percentages', async () => {
    const breaker = new Breaker({
      name: 'w',
      policy: 'count-window',
      windowSize: 10,
      minimumCalls: 4,
      failureRateThreshold: 0.9,
    });
    expect(await run(breaker, [ok, fail, ok])).toEqual({
      failureRate: -1,
      slowCallRate: -1,
      bufferedCalls: 3,
      failedCalls: 1,
      successfulCalls: 2,
      slowCalls: 0,
    });
    expect(await run(breaker, [fail])).toEqual({
      failureRate: 50,
      slowCallRate: 0,
      bufferedCalls: 4,
      failedCalls: 2,
      successfulCalls: 2,
      slowCalls: 0,
    });
  });

  it('needs one call for consecutive, which has no minimum', async () => {
    const breaker = new Breaker({ name: 'c', failureThreshold: 5 });
    expect(minimumCallsOf(breaker.options.circuit)).toBe(1);
    expect((await run(breaker, [])).failureRate).toBe(-1);
    const report = await run(breaker, [ok, ok, fail]);
    expect(report.failureRate).toBeCloseTo(100 / 3, 10);
    expect(report.failedCalls).toBe(1);
  });

  it('counts slow calls of the slow-call policy', async () => {
    const clock = new ManualClock(0);
    const breaker = new Breaker({
      name: 's',
      policy: 'slow-call',
      slowCallDuration: 100,
      windowSize: 4,
      minimumCalls: 2,
      slowCallRateThreshold: 1,
      failureRateThreshold: 1,
      clock,
    });
    const slow = () => {
      clock.advance(150);
      return Promise.resolve(1);
    };
    const report = await run(breaker, [slow, ok, slow, ok]);
    expect(report).toMatchObject({ slowCallRate: 50, slowCalls: 2, bufferedCalls: 4 });
  });
});

describe('rateThresholds', () => {
  it('gives the thresholds in percent, -1 for a rate the policy does not watch', () => {
    const of = (options: ConstructorParameters<typeof Breaker>[0]) =>
      rateThresholds(new Breaker(options).options.circuit);
    expect(of({ name: 'a' })).toEqual({ failureRateThreshold: -1, slowCallRateThreshold: -1 });
    expect(of({ name: 'b', policy: 'time-window', failureRateThreshold: 0.25 })).toEqual({
      failureRateThreshold: 25,
      slowCallRateThreshold: -1,
    });
    expect(
      of({ name: 'c', policy: 'slow-call', slowCallDuration: 10, slowCallRateThreshold: 0.8 }),
    ).toEqual({ failureRateThreshold: 50, slowCallRateThreshold: 80 });
  });
});
