import { describe, expect, it } from '@jest/globals';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { parseExposition, seriesOf } from './fixture/exposition.js';

// The e2e suites trust this parser to read a scrape as Prometheus would: checked here on what
// prom-client itself writes, escapes included, and on lines Prometheus would refuse.

describe('parseExposition (test helper)', () => {
  it('reads what prom-client writes: types, help, labels with escapes, histogram suffixes', async () => {
    const registry = new Registry();
    const gauge = new Gauge({
      name: 'g',
      help: 'a "help"\\ line',
      labelNames: ['name'],
      registers: [registry],
    });
    gauge.set({ name: 'a"b\\c\nd' }, -1);
    new Counter({ name: 'c_total', help: 'c', labelNames: ['name'], registers: [registry] }).inc(
      { name: 'x' },
      3,
    );
    const histogram = new Histogram({
      name: 'h_seconds',
      help: 'h',
      labelNames: ['name'],
      buckets: [0.5],
      registers: [registry],
    });
    histogram.observe({ name: 'x' }, 0.25);
    histogram.observe({ name: 'x' }, 2);
    const families = parseExposition(await registry.metrics());
    expect([...families.values()].map(({ name, type }) => [name, type])).toEqual([
      ['g', 'gauge'],
      ['c_total', 'counter'],
      ['h_seconds', 'histogram'],
    ]);
    expect(families.get('g')?.samples).toEqual([
      { name: 'g', labels: { name: 'a"b\\c\nd' }, value: -1 },
    ]);
    expect(seriesOf(families, 'x')).toEqual({
      'c_total{}': 3,
      'h_seconds_bucket{le="0.5"}': 1,
      'h_seconds_bucket{le="+Inf"}': 2,
      'h_seconds_sum{}': 2.25,
      'h_seconds_count{}': 2,
    });
  });

  it('reads +Inf, -Inf, NaN and a timestamp', () => {
    const families = parseExposition(
      '# TYPE m gauge\nm{a="1"} +Inf\nm{a="2"} -Inf 1700000000000\nm NaN\n',
    );
    expect(families.get('m')?.samples.map((s) => s.value)).toEqual([Infinity, -Infinity, NaN]);
  });

  it.each([
    ['a sample with no # TYPE line', 'm 1', 'sample m has no # TYPE line'],
    [
      'a suffix its type does not have',
      '# TYPE m gauge\nm_total 1',
      'sample m_total has no # TYPE line',
    ],
    ['an unterminated label value', '# TYPE m gauge\nm{a="1} 1', 'unterminated label value'],
    ['a label without quotes', '# TYPE m gauge\nm{a=1} 1', 'bad label'],
    ['a repeated label', '# TYPE m gauge\nm{a="1",a="2"} 1', 'label a repeated'],
    ['a value that is not a number', '# TYPE m gauge\nm one', 'bad sample value'],
    ['trailing garbage', '# TYPE m gauge\nm 1 2 3', 'bad sample line'],
  ])('refuses %s', (_what, text, message) => {
    expect(() => parseExposition(text)).toThrow(message);
  });
});
