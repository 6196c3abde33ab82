import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { metrics } from '@opentelemetry/api';
import type { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  CircuitBreaker,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  ManualClock,
} from '../../lib/index.js';
import {
  CircuitBreakerOpenTelemetryModule,
  type CircuitBreakerTelemetryOptions,
  instrumentCircuitBreakers,
} from '../../lib/opentelemetry/index.js';
import { shutDownAll, startMetrics, startTracing } from './otel-harness.js';

const clock = new ManualClock(1_000_000);
let down = false;

class PaymentsDown extends Error {}

@Injectable()
class PaymentsClient {
  @CircuitBreaker('payments')
  quote(ms: number): string {
    clock.advance(ms);
    if (down) throw new PaymentsDown('payments down');
    return 'quote';
  }
}

const apps: INestApplicationContext[] = [];
const handles: Array<{ dispose(): void }> = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  for (const handle of handles.splice(0)) handle.dispose();
  await shutDownAll();
  metrics.disable();
  down = false;
});

async function boot(options: CircuitBreakerTelemetryOptions) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      CircuitBreakerModule.forRoot({
        defaults: { clock, failureThreshold: 2, openDuration: 1_000 },
      }),
      CircuitBreakerOpenTelemetryModule.forRoot(options),
    ],
    providers: [PaymentsClient],
  }).compile();
  const app = await moduleRef.init();
  apps.push(app);
  return app;
}

function attempt(client: PaymentsClient, ms: number): void {
  try {
    client.quote(ms);
  } catch {
    // outcomes are read from the metrics
  }
}

const state = (name: string, current: string) =>
  Object.fromEntries(
    ['closed', 'open', 'half_open', 'forced_open', 'disabled'].map((s) => [
      `circuit_breaker.name=${name},circuit_breaker.state=${s}`,
      s === current ? 1 : 0,
    ]),
  );

describe('CircuitBreakerOpenTelemetryModule', () => {
  it("instruments the application's breakers through an outage and a recovery", async () => {
    const { provider, collect } = startMetrics();
    const app = await boot({ meterProvider: provider });
    const client = app.get(PaymentsClient);
    attempt(client, 100);
    down = true;
    attempt(client, 300);
    attempt(client, 300);
    attempt(client, 0); // refused: the circuit is open
    let collected = await collect();
    expect(collected.values('circuit_breaker.state')).toEqual(state('payments', 'open'));
    expect(collected.values('circuit_breaker.call.rejected')).toEqual({
      'circuit_breaker.name=payments,circuit_breaker.rejection.reason=open': 1,
    });
    const failed =
      'circuit_breaker.name=payments,circuit_breaker.outcome=failure,error.type=PaymentsDown';
    expect(collected.values('circuit_breaker.call.duration')).toEqual({
      'circuit_breaker.name=payments,circuit_breaker.outcome=success': 1,
      [failed]: 2,
    });
    expect(collected.sums('circuit_breaker.call.duration')[failed]).toBeCloseTo(0.6, 10);
    down = false;
    clock.advance(1_000);
    attempt(client, 50);
    collected = await collect();
    expect(collected.values('circuit_breaker.state')).toEqual(state('payments', 'closed'));
    const t = (from: string, to: string) =>
      `circuit_breaker.name=payments,circuit_breaker.previous_state=${from},circuit_breaker.state=${to}`;
    expect(collected.values('circuit_breaker.state_change.count')).toEqual({
      [t('closed', 'open')]: 1,
      [t('open', 'half_open')]: 1,
      [t('half_open', 'closed')]: 1,
    });
    expect(collected.scopes.map((s) => s.scope.name)).toEqual(['nestjs-circuit-breaker']);
  });

  it('adds span events to the span active around a decorated call', async () => {
    const { provider } = startMetrics();
    const tracing = startTracing();
    const app = await boot({ meterProvider: provider });
    const client = app.get(PaymentsClient);
    down = true;
    attempt(client, 1);
    const tripping = await tracing.inSpan('tripping', () => attempt(client, 1));
    const refused = await tracing.inSpan('refused', () => attempt(client, 1));
    expect(tripping.map((e) => e.name)).toEqual(['circuit_breaker.state_change']);
    expect(refused.map((e) => [e.name, e.attributes?.['circuit_breaker.name']])).toEqual([
      ['circuit_breaker.rejected', 'payments'],
    ]);
  });

  it('uses the global meter provider by default, read when the module starts', async () => {
    const { provider, collect } = startMetrics();
    // set after forRoot() but before init: what counts is the provider when the module starts
    const moduleRef = Test.createTestingModule({
      imports: [
        CircuitBreakerModule.forRoot({ defaults: { clock } }),
        CircuitBreakerOpenTelemetryModule.forRoot(),
      ],
      providers: [PaymentsClient],
    });
    metrics.setGlobalMeterProvider(provider as MeterProvider);
    const app = await (await moduleRef.compile()).init();
    apps.push(app);
    attempt(app.get(PaymentsClient), 10);
    const { scopes } = await collect();
    // the meter is named and versioned after this package, as package.json has it
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(scopes.map((s) => [s.scope.name, s.scope.version])).toEqual([
      ['nestjs-circuit-breaker', version],
    ]);
  });

  it('picks up breakers the registry creates later, and stops at shutdown', async () => {
    const { provider, collect } = startMetrics();
    const app = await boot({ meterProvider: provider, prefix: 'app.cb.' });
    const late = app.get(CircuitBreakerRegistry).getOrCreate('late');
    late.executeSync(() => clock.advance(20));
    let collected = await collect();
    expect(collected.values('app.cb.state')).toEqual({
      ...state('late', 'closed'),
      ...state('payments', 'closed'),
    });
    expect(collected.sums('app.cb.call.duration')).toEqual({
      'circuit_breaker.name=late,circuit_breaker.outcome=success': 0.02,
    });
    await apps.pop()!.close();
    collected = await collect();
    // shut down: every state reads 0, once, and nothing more is observed
    expect(collected.values('app.cb.state')).toEqual({
      ...state('late', 'none'),
      ...state('payments', 'none'),
    });
  });

  it("instrumentCircuitBreakers(registry) on its own stops observing at the application's shutdown", async () => {
    const { provider, collect } = startMetrics();
    const moduleRef = await Test.createTestingModule({
      imports: [CircuitBreakerModule.forRoot({ defaults: { clock } })],
      providers: [PaymentsClient],
    }).compile();
    const app = await moduleRef.init();
    handles.push(
      instrumentCircuitBreakers(app.get(CircuitBreakerRegistry), { meterProvider: provider }),
    );
    attempt(app.get(PaymentsClient), 10);
    expect((await collect()).values('circuit_breaker.state')).toEqual(state('payments', 'closed'));
    await app.close();
    expect((await collect()).values('circuit_breaker.state')).toEqual(state('payments', 'none'));
  });

  it('runs two applications on one meter provider without a clash', async () => {
    const { provider, collect } = startMetrics();
    const first = await boot({ meterProvider: provider });
    const second = await boot({ meterProvider: provider });
    first
      .get(CircuitBreakerRegistry)
      .getOrCreate('first-only')
      .executeSync(() => 1);
    second
      .get(CircuitBreakerRegistry)
      .getOrCreate('second-only')
      .executeSync(() => 1);
    const durations = (await collect()).values('circuit_breaker.call.duration');
    expect(durations).toEqual({
      'circuit_breaker.name=first-only,circuit_breaker.outcome=success': 1,
      'circuit_breaker.name=second-only,circuit_breaker.outcome=success': 1,
    });
    await apps.shift()!.close();
    second
      .get(CircuitBreakerRegistry)
      .getOrCreate('second-only')
      .executeSync(() => 1);
    const collected = await collect();
    expect(collected.values('circuit_breaker.call.duration')).toEqual({
      'circuit_breaker.name=first-only,circuit_breaker.outcome=success': 1,
      'circuit_breaker.name=second-only,circuit_breaker.outcome=success': 2,
    });
    // the second application's breakers still report their state; the first's read 0
    expect(collected.values('circuit_breaker.state')).toMatchObject({
      'circuit_breaker.name=second-only,circuit_breaker.state=closed': 1,
      'circuit_breaker.name=first-only,circuit_breaker.state=closed': 0,
    });
  });

  it('refuses bad options when forRoot() is called, naming the option', () => {
    expect(() =>
      CircuitBreakerOpenTelemetryModule.forRoot({
        prefix: 'no spaces',
      } as CircuitBreakerTelemetryOptions),
    ).toThrow(/^CircuitBreakerOpenTelemetryModule\.forRoot\(\): prefix must start/);
    expect(() =>
      CircuitBreakerOpenTelemetryModule.forRoot({
        meterProvder: {},
      } as CircuitBreakerTelemetryOptions),
    ).toThrow(/unknown option "meterProvder" \(did you mean "meterProvider"\?\)/);
  });
});
