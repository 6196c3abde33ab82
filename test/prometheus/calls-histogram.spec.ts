import { describe, expect, it } from '@jest/globals';
import { Histogram, Registry } from 'prom-client';
import { CallsHistogram } from '../../lib/prometheus/calls-histogram.js';

const observations = [
  ['payments', 'successful', 0.003],
  ['payments', 'successful', 0.25],
  ['payments', 'successful', 0.005], // on a bound: counted in it (le is "less or equal")
  ['payments', 'failed', 12], // above every bound: only in +Inf
  ['search', 'ignored', 0.1],
] as const;

describe('CallsHistogram', () => {
  it.each([[undefined], [[0.1, 0.5, 2]]])(
    'scrapes exactly as a prom-client Histogram with the same observations (buckets %p)',
    async (buckets) => {
      const theirs = new Registry();
      const ours = new Registry();
      const histogram = new Histogram({
        name: 'x_calls_seconds',
        help: 'calls',
        labelNames: ['name', 'kind'],
        registers: [theirs],
        ...(buckets === undefined ? {} : { buckets: [...buckets] }),
      });
      const calls = new CallsHistogram('x_calls_seconds', 'calls', buckets, ours);
      for (const [name, kind, seconds] of observations) {
        histogram.observe({ name, kind }, seconds);
        calls.observe(name, kind, seconds);
      }
      expect(await ours.metrics()).toBe(await theirs.metrics());
      expect(await ours.metrics()).toContain(
        'x_calls_seconds_bucket{le="+Inf",name="payments",kind="failed"} 1',
      );
    },
  );

  it('forgets one breaker with remove(), everything with the registry reset', async () => {
    const registry = new Registry();
    const calls = new CallsHistogram('x_calls_seconds', 'calls', undefined, registry);
    for (const [name, kind, seconds] of observations) calls.observe(name, kind, seconds);
    calls.remove('payments');
    const text = await registry.metrics();
    expect(text).not.toContain('payments');
    expect(text).toContain('x_calls_seconds_count{name="search",kind="ignored"} 1');
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('search');
  });

  it('sorts the buckets it is given (prom-client would report unsorted ones as given)', async () => {
    const registry = new Registry();
    const calls = new CallsHistogram('x_calls_seconds', 'calls', [2, 0.1, 0.5], registry);
    calls.observe('a', 'successful', 0.3);
    const les = [...(await registry.metrics()).matchAll(/le="([^"]+)"/g)].map((m) => m[1]);
    expect(les).toEqual(['0.1', '0.5', '2', '+Inf']);
  });

  it('refuses buckets that are not finite numbers', () => {
    expect(() => new CallsHistogram('x', 'x', [0.1, Number.NaN], new Registry())).toThrow(
      /buckets must be an array of finite numbers/,
    );
  });

  it('refuses a repeated bound (two series with one le), even unsorted', () => {
    expect(() => new CallsHistogram('x', 'x', [0.5, 0.1, 0.5], new Registry())).toThrow(
      'registerCircuitBreakerMetrics: buckets must not repeat a bound, received 0.5,0.1,0.5 (0.5 twice)',
    );
  });
});
