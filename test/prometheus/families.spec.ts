import { afterEach, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import { Registry } from 'prom-client';
import { BreakerFamily, ManualClock } from '../../lib/core/index.js';
import { CircuitBreakerModule, CircuitBreakerRegistry } from '../../lib/index.js';
import {
  CircuitBreakerPrometheusModule,
  registerCircuitBreakerMetrics,
} from '../../lib/prometheus/index.js';

const handles: Array<{ dispose(): void }> = [];
const apps: INestApplicationContext[] = [];
afterEach(async () => {
  for (const handle of handles.splice(0)) handle.dispose();
  for (const app of apps.splice(0)) await app.close();
});

class Boom extends Error {}

function family(maxKeys = 1_000) {
  const clock = new ManualClock(1_000_000);
  const carriers = new BreakerFamily({
    name: 'carrier',
    clock,
    failureThreshold: 1,
    openDuration: 1_000,
    maxKeys,
    idleTimeout: Infinity,
  });
  return { clock, carriers };
}

function fail(carriers: BreakerFamily, key: string): void {
  try {
    carriers.get(key).executeSync(() => {
      throw new Boom();
    });
  } catch {
    // read from the metrics
  }
}

/** Every sample line of the scrape: `metric{labels} value`. */
async function scrape(registry: Registry): Promise<string[]> {
  return (await registry.metrics()).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

/** The `name` label values of the scrape, sorted. */
async function names(registry: Registry): Promise<string[]> {
  const found = new Set<string>();
  for (const line of await scrape(registry)) {
    const m = /name="([^"]*)"/.exec(line);
    if (m) found.add(m[1]!);
  }
  return [...found].sort();
}

/** The value of the sample `metric{labels}` written exactly as prom-client writes it. */
async function value(registry: Registry, sample: string): Promise<number | undefined> {
  const line = (await scrape(registry)).find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

describe('Prometheus metrics of a BreakerFamily', () => {
  it('gives the first maxKeysPerFamily keys their own series and adds the rest into <family>:__other__', async () => {
    const { carriers } = family();
    const registry = new Registry();
    handles.push(registerCircuitBreakerMetrics([carriers], { registry, maxKeysPerFamily: 2 }));
    for (let i = 0; i < 50; i++) carriers.get(`k${i}`).executeSync(() => 'ok');
    fail(carriers, 'k0');
    fail(carriers, 'k7');
    fail(carriers, 'k8');
    expect(await names(registry)).toEqual(['carrier:__other__', 'carrier:k0', 'carrier:k1']);
    expect(await value(registry, 'circuitbreaker_state{name="carrier:k0",state="open"}')).toBe(1);
    expect(await value(registry, 'circuitbreaker_state{name="carrier:k1",state="closed"}')).toBe(1);
    // The aggregate's state gauge counts its keys in each state.
    expect(
      await value(registry, 'circuitbreaker_state{name="carrier:__other__",state="open"}'),
    ).toBe(2);
    expect(
      await value(registry, 'circuitbreaker_state{name="carrier:__other__",state="closed"}'),
    ).toBe(46);
    expect(
      await value(
        registry,
        'circuitbreaker_state_transitions_total{name="carrier:__other__",from="closed",to="open"}',
      ),
    ).toBe(2);
    expect(
      await value(
        registry,
        'circuitbreaker_calls_seconds_count{name="carrier:__other__",kind="successful"}',
      ),
    ).toBe(48);
    expect(
      await value(
        registry,
        'circuitbreaker_buffered_calls{name="carrier:__other__",kind="failed"}',
      ),
    ).toBe(2);
    // No rate for the aggregate: a rate across keys would mislead.
    expect(
      (await scrape(registry)).some((l) => l.includes('failure_rate{name="carrier:__other__"')),
    ).toBe(false);
  });

  it('removes a released key’s own series and gives its place to the next new key', async () => {
    const { carriers } = family();
    const registry = new Registry();
    handles.push(registerCircuitBreakerMetrics([carriers], { registry, maxKeysPerFamily: 2 }));
    fail(carriers, 'a');
    carriers.get('b');
    carriers.get('c');
    expect(await names(registry)).toEqual(['carrier:__other__', 'carrier:a', 'carrier:b']);
    expect(carriers.delete('a')).toBe(true);
    expect(await names(registry)).toEqual(['carrier:__other__', 'carrier:b']);
    expect((await scrape(registry)).filter((l) => l.includes('"carrier:a"'))).toEqual([]);
    carriers.get('d');
    expect(await names(registry)).toEqual(['carrier:__other__', 'carrier:b', 'carrier:d']);
    // c keeps its place in the aggregate for its breaker's life, even with a place free.
    expect(carriers.delete('b')).toBe(true);
    fail(carriers, 'c');
    expect(await names(registry)).toEqual(['carrier:__other__', 'carrier:d']);
    expect(
      await value(registry, 'circuitbreaker_state{name="carrier:__other__",state="open"}'),
    ).toBe(1);
  });

  it('never lets the aggregate’s counters go backwards when its keys are released', async () => {
    const { carriers } = family();
    const registry = new Registry();
    handles.push(registerCircuitBreakerMetrics([carriers], { registry, maxKeysPerFamily: 0 }));
    const refusedWithFallback = (key: string) =>
      carriers.get(key).executeSync(() => 'never', { fallback: () => 'cached' });
    fail(carriers, 'x');
    fail(carriers, 'y');
    refusedWithFallback('x');
    refusedWithFallback('y');
    const notPermitted =
      'circuitbreaker_not_permitted_calls_total{name="carrier:__other__",kind="not_permitted"}';
    const fallbacks = 'circuitbreaker_fallback_calls_total{name="carrier:__other__",kind="all"}';
    expect(await value(registry, notPermitted)).toBe(2);
    expect(await value(registry, fallbacks)).toBe(2);
    carriers.delete('x');
    carriers.delete('y');
    expect(await value(registry, notPermitted)).toBe(2);
    expect(await value(registry, fallbacks)).toBe(2);
    expect(
      await value(registry, 'circuitbreaker_state{name="carrier:__other__",state="open"}'),
    ).toBe(0);
    refusedWithFallback('z');
    expect(await value(registry, fallbacks)).toBe(2); // z is closed: its call ran
  });

  it('keeps the label set bounded when keys come and go through the cap (LRU eviction)', async () => {
    const { carriers } = family(10);
    const registry = new Registry();
    handles.push(registerCircuitBreakerMetrics([carriers], { registry, maxKeysPerFamily: 3 }));
    for (let i = 0; i < 500; i++) carriers.get(`k${i}`).executeSync(() => 'ok');
    const seen = await names(registry);
    expect(seen).toHaveLength(4);
    expect(seen).toContain('carrier:__other__');
    expect(carriers.stats().evicted.capacity).toBe(490);
  });

  it('counts a key created before registration, and folds a key spelt __other__', async () => {
    const { carriers } = family();
    carriers.get('early');
    const registry = new Registry();
    handles.push(registerCircuitBreakerMetrics([carriers], { registry, maxKeysPerFamily: 5 }));
    fail(carriers, 'early');
    fail(carriers, '__other__');
    expect(await names(registry)).toEqual(['carrier:__other__', 'carrier:early']);
    expect(
      await value(registry, 'circuitbreaker_state{name="carrier:__other__",state="open"}'),
    ).toBe(1);
  });

  it('drops a disposed family and, on dispose(), every series', async () => {
    const { carriers } = family();
    const registry = new Registry();
    const metrics = registerCircuitBreakerMetrics([carriers], { registry, maxKeysPerFamily: 1 });
    fail(carriers, 'a');
    fail(carriers, 'b');
    expect(await names(registry)).toEqual(['carrier:__other__', 'carrier:a']);
    metrics.dispose();
    expect(await registry.getMetricsAsJSON()).toEqual([]);
    const second = family().carriers;
    const again = registerCircuitBreakerMetrics([second], { registry });
    handles.push(again);
    fail(second, 'a');
    second.dispose();
    expect(await names(registry)).toEqual([]);
  });

  it.each([-1, 1.5, '10', Number.NaN])('refuses maxKeysPerFamily %p, naming it', (bad) => {
    expect(() =>
      registerCircuitBreakerMetrics([], {
        registry: new Registry(),
        maxKeysPerFamily: bad as number,
      }),
    ).toThrow(/maxKeysPerFamily must be an integer >= 0, received/);
  });
});

describe('Prometheus metrics of a registry’s families', () => {
  it('reports the families of CircuitBreakerPrometheusModule’s application, capped', async () => {
    const registry = new Registry();
    const moduleRef = await Test.createTestingModule({
      imports: [
        CircuitBreakerModule.forRoot({
          defaults: { clock: new ManualClock(1_000_000) },
          breakers: { payments: {} },
          families: { carrier: { failureThreshold: 1 } },
        }),
        CircuitBreakerPrometheusModule.forRoot({ registry, maxKeysPerFamily: 2 }),
      ],
    }).compile();
    const app = await moduleRef.init();
    apps.push(app);
    const carriers = app.get(CircuitBreakerRegistry).family('carrier');
    for (let i = 0; i < 20; i++) fail(carriers, `k${i}`);
    expect(await names(registry)).toEqual([
      'carrier:__other__',
      'carrier:k0',
      'carrier:k1',
      'payments',
    ]);
    expect(
      await value(
        registry,
        'circuitbreaker_state_transitions_total{name="carrier:__other__",from="closed",to="open"}',
      ),
    ).toBe(18);
    expect(
      await value(
        registry,
        'circuitbreaker_state_transitions_total{name="carrier:k1",from="closed",to="open"}',
      ),
    ).toBe(1);
    carriers.delete('k1');
    expect(await names(registry)).toEqual(['carrier:__other__', 'carrier:k0', 'payments']);
    await app.close();
    apps.length = 0;
    expect(await names(registry)).toEqual([]);
  });

  it('refuses a bad maxKeysPerFamily at bootstrap', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        CircuitBreakerModule.forRoot(),
        CircuitBreakerPrometheusModule.forRoot({ registry: new Registry(), maxKeysPerFamily: -1 }),
      ],
    }).compile();
    await expect(moduleRef.init()).rejects.toThrow(/maxKeysPerFamily must be an integer >= 0/);
    await moduleRef.close();
  });
});
