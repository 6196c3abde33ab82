import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { register as globalRegister, Registry } from 'prom-client';
import {
  CircuitBreaker,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  ManualClock,
} from '../../lib/index.js';
import { CircuitBreakerPrometheusModule } from '../../lib/prometheus/index.js';

const clock = new ManualClock(1_000_000);
let down = false;

@Injectable()
class PaymentsClient {
  @CircuitBreaker('payments')
  quote(ms: number): string {
    clock.advance(ms);
    if (down) throw new Error('payments down');
    return 'quote';
  }
}

const apps: INestApplicationContext[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  down = false;
});

async function boot(options: Parameters<typeof CircuitBreakerPrometheusModule.forRoot>[0]) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      CircuitBreakerModule.forRoot({
        defaults: { clock, failureThreshold: 2, openDuration: 1_000 },
      }),
      CircuitBreakerPrometheusModule.forRoot(options),
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

describe('CircuitBreakerPrometheusModule', () => {
  it("scrapes the application's breakers through an outage and a recovery", async () => {
    const registry = new Registry();
    const app = await boot({ registry });
    const client = app.get(PaymentsClient);
    attempt(client, 100);
    down = true;
    attempt(client, 300);
    attempt(client, 300);
    attempt(client, 0); // refused: the circuit is open
    let text = await registry.metrics();
    expect(text).toContain('circuitbreaker_state{name="payments",state="open"} 1');
    expect(text).toContain('circuitbreaker_state{name="payments",state="closed"} 0');
    expect(text).toContain(
      'circuitbreaker_not_permitted_calls_total{name="payments",kind="not_permitted"} 1',
    );
    expect(text).toContain('circuitbreaker_calls_seconds_count{name="payments",kind="failed"} 2');
    expect(text).toContain('circuitbreaker_calls_seconds_sum{name="payments",kind="failed"} 0.6');
    down = false;
    clock.advance(1_000);
    attempt(client, 50);
    text = await registry.metrics();
    expect(text).toContain('circuitbreaker_state{name="payments",state="closed"} 1');
    expect(text).toContain(
      'circuitbreaker_calls_seconds_count{name="payments",kind="successful"} 2',
    );
    expect(text).toContain(
      'circuitbreaker_state_transitions_total{name="payments",from="closed",to="open"} 1',
    );
    expect(text).toContain(
      'circuitbreaker_state_transitions_total{name="payments",from="half_open",to="closed"} 1',
    );
  });

  it('picks up breakers the registry creates later, and leaves the registry on shutdown', async () => {
    const registry = new Registry();
    const app = await boot({ registry, prefix: 'resilience4j_circuitbreaker_' });
    const late = app.get(CircuitBreakerRegistry).getOrCreate('late');
    late.executeSync(() => clock.advance(20));
    const text = await registry.metrics();
    expect(text).toContain('resilience4j_circuitbreaker_state{name="late",state="closed"} 1');
    expect(text).toContain(
      'resilience4j_circuitbreaker_calls_seconds_sum{name="late",kind="successful"} 0.02',
    );
    await apps.pop()!.close();
    expect(registry.getMetricsAsArray()).toHaveLength(0);
  });

  it('runs two applications in one process on the global registry without a clash', async () => {
    const first = await boot({});
    const second = await boot({});
    first
      .get(CircuitBreakerRegistry)
      .getOrCreate('first-only')
      .executeSync(() => 1);
    second
      .get(CircuitBreakerRegistry)
      .getOrCreate('second-only')
      .executeSync(() => 1);
    let text = await globalRegister.metrics();
    expect(text).toContain('circuitbreaker_state{name="first-only",state="closed"} 1');
    expect(text).toContain('circuitbreaker_state{name="second-only",state="closed"} 1');
    await apps.shift()!.close();
    text = await globalRegister.metrics();
    expect(text).not.toContain('first-only');
    expect(text).toContain(
      'circuitbreaker_calls_seconds_count{name="second-only",kind="successful"} 1',
    );
    await apps.shift()!.close();
    expect(globalRegister.getSingleMetric('circuitbreaker_state')).toBeUndefined();
  });

  it('runs two applications in one process with a registry each', async () => {
    const one = new Registry();
    const two = new Registry();
    const a = await boot({ registry: one });
    await boot({ registry: two });
    attempt(a.get(PaymentsClient), 10);
    expect(await one.metrics()).toContain(
      'circuitbreaker_calls_seconds_count{name="payments",kind="successful"} 1',
    );
    expect(await two.metrics()).not.toContain('kind="successful"} 1');
  });
});
