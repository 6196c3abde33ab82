import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { BreakerFamily, type Disposable, ManualClock } from '../../lib/core/index.js';
import { CircuitBreakerModule, CircuitBreakerRegistry } from '../../lib/index.js';
import {
  CircuitBreakerOpenTelemetryModule,
  instrumentCircuitBreakers,
} from '../../lib/opentelemetry/index.js';
import { type Collected, shutDownAll, startMetrics, startTracing } from './otel-harness.js';

const handles: Disposable[] = [];
const apps: INestApplicationContext[] = [];
afterEach(async () => {
  for (const handle of handles.splice(0)) handle.dispose();
  for (const app of apps.splice(0)) await app.close();
  await shutDownAll();
});

class Boom extends Error {}

function family() {
  return new BreakerFamily({
    name: 'carrier',
    clock: new ManualClock(1_000_000),
    failureThreshold: 1,
    openDuration: 1_000,
    idleTimeout: Infinity,
  });
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

/** The distinct `circuit_breaker.name` values of every point of every instrument. */
function names(collected: Collected): string[] {
  const found = new Set<string>();
  for (const scope of collected.scopes) {
    for (const metric of scope.metrics) {
      for (const point of metric.dataPoints) {
        found.add(String(point.attributes['circuit_breaker.name']));
      }
    }
  }
  return [...found].sort();
}

const state = (name: string, s: string) =>
  `circuit_breaker.family=carrier,circuit_breaker.name=${name},circuit_breaker.state=${s}`;

describe('OpenTelemetry instruments of a BreakerFamily', () => {
  it('names the first maxKeysPerFamily keys and records the rest as <family>:__other__', async () => {
    const carriers = family();
    const { provider, collect } = startMetrics();
    handles.push(
      instrumentCircuitBreakers([carriers], { meterProvider: provider, maxKeysPerFamily: 2 }),
    );
    for (let i = 0; i < 40; i++) carriers.get(`k${i}`).executeSync(() => 'ok');
    fail(carriers, 'k1');
    fail(carriers, 'k5');
    fail(carriers, 'k6');
    const collected = await collect();
    expect(names(collected)).toEqual(['carrier:__other__', 'carrier:k0', 'carrier:k1']);
    const states = collected.values('circuit_breaker.state');
    expect(states[state('carrier:k1', 'open')]).toBe(1);
    expect(states[state('carrier:k0', 'closed')]).toBe(1);
    expect(states[state('carrier:__other__', 'open')]).toBe(2);
    expect(states[state('carrier:__other__', 'closed')]).toBe(36);
    const transitions = collected.values('circuit_breaker.state_change.count');
    expect(
      transitions[
        'circuit_breaker.family=carrier,circuit_breaker.name=carrier:__other__,circuit_breaker.previous_state=closed,circuit_breaker.state=open'
      ],
    ).toBe(2);
    const durations = collected.values('circuit_breaker.call.duration');
    expect(
      durations[
        'circuit_breaker.family=carrier,circuit_breaker.name=carrier:__other__,circuit_breaker.outcome=success'
      ],
    ).toBe(38);
  });

  it('reports a released named key as 0 once, then gives its place to a new key', async () => {
    const carriers = family();
    const { provider, collect } = startMetrics();
    handles.push(
      instrumentCircuitBreakers([carriers], { meterProvider: provider, maxKeysPerFamily: 1 }),
    );
    fail(carriers, 'a');
    carriers.get('b');
    expect(names(await collect())).toEqual(['carrier:__other__', 'carrier:a']);
    carriers.delete('a');
    const once = (await collect()).values('circuit_breaker.state');
    expect(once[state('carrier:a', 'open')]).toBe(0);
    carriers.get('c');
    fail(carriers, 'c');
    const next = (await collect()).values('circuit_breaker.state');
    expect(next[state('carrier:c', 'open')]).toBe(1);
    expect(next[state('carrier:__other__', 'closed')]).toBe(1); // b keeps its place there
  });

  it('keeps a key’s own name in its span events', async () => {
    const carriers = family();
    const { provider } = startMetrics();
    const { inSpan } = startTracing();
    handles.push(
      instrumentCircuitBreakers([carriers], { meterProvider: provider, maxKeysPerFamily: 0 }),
    );
    const events = await inSpan('ship', () => fail(carriers, 'dhl'));
    expect(events.map((e) => [e.name, e.attributes?.['circuit_breaker.name']])).toEqual([
      ['circuit_breaker.state_change', 'carrier:dhl'],
    ]);
  });

  it.each([-1, 2.5, 'x'])('refuses maxKeysPerFamily %p, naming it', (bad) => {
    expect(() => instrumentCircuitBreakers([], { maxKeysPerFamily: bad as number })).toThrow(
      /instrumentCircuitBreakers: maxKeysPerFamily must be an integer >= 0, received/,
    );
  });
});

describe('OpenTelemetry instruments of a registry’s families', () => {
  it('caps the names of CircuitBreakerOpenTelemetryModule’s application', async () => {
    const { provider, collect } = startMetrics();
    const moduleRef = await Test.createTestingModule({
      imports: [
        CircuitBreakerModule.forRoot({
          defaults: { clock: new ManualClock(1_000_000) },
          families: { carrier: { failureThreshold: 1 } },
        }),
        CircuitBreakerOpenTelemetryModule.forRoot({
          meterProvider: provider,
          maxKeysPerFamily: 3,
        }),
      ],
    }).compile();
    const app = await moduleRef.init();
    apps.push(app);
    const carriers = app.get(CircuitBreakerRegistry).family('carrier');
    for (let i = 0; i < 25; i++) fail(carriers, `k${i}`);
    const collected = await collect();
    expect(names(collected)).toEqual([
      'carrier:__other__',
      'carrier:k0',
      'carrier:k1',
      'carrier:k2',
    ]);
    expect(collected.values('circuit_breaker.state')[state('carrier:__other__', 'open')]).toBe(22);
    const rejected = (k: string) => {
      try {
        carriers.get(k).executeSync(() => 'never');
      } catch {
        // refused: open
      }
    };
    rejected('k0');
    rejected('k20');
    const after = (await collect()).values('circuit_breaker.call.rejected');
    expect(after).toEqual({
      'circuit_breaker.family=carrier,circuit_breaker.name=carrier:k0,circuit_breaker.rejection.reason=open': 1,
      'circuit_breaker.family=carrier,circuit_breaker.name=carrier:__other__,circuit_breaker.rejection.reason=open': 1,
    });
  });
});
