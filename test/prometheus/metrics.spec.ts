import { afterEach, describe, expect, it } from '@jest/globals';
import { Gauge, type OpenMetricsContentType, Registry } from 'prom-client';
import { Breaker, type BreakerOptions, ManualClock } from '../../lib/core/index.js';
import { registerCircuitBreakerMetrics } from '../../lib/prometheus/index.js';

class Boom extends Error {}
class Ignorable extends Error {}

const handles: Array<{ dispose(): void }> = [];
afterEach(() => {
  for (const handle of handles.splice(0)) handle.dispose();
});

function setup(options: Partial<BreakerOptions> = {}, prefix?: string) {
  const clock = new ManualClock(1_000_000);
  const breaker = new Breaker({
    name: 'payments',
    clock,
    openDuration: 1_000,
    ignore: (e) => e instanceof Ignorable,
    ...(options.policy === undefined ? { failureThreshold: 2 } : {}),
    ...options,
  });
  const registry = new Registry();
  handles.push(
    registerCircuitBreakerMetrics([breaker], { registry, ...(prefix ? { prefix } : {}) }),
  );
  return { clock, breaker, registry };
}

/** A call that takes `ms` on the manual clock and then returns or throws. */
function call(b: Breaker, clock: ManualClock, ms: number, error?: unknown): void {
  try {
    b.executeSync(() => {
      clock.advance(ms);
      if (error !== undefined) throw error;
      return 'ok';
    });
  } catch {
    // the test reads the metrics, not the error
  }
}

/** name{labels} value, for every sample of one metric. */
async function samples(registry: Registry, name: string): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const out: Record<string, number> = {};
  for (const v of values) {
    const labels = Object.entries(v.labels)
      .map(([k, x]) => `${k}=${String(x)}`)
      .join(',');
    out[`${(v as { metricName?: string }).metricName ?? name}{${labels}}`] = v.value;
  }
  return out;
}

describe('registerCircuitBreakerMetrics on engine breakers', () => {
  it('reports one 0/1 state series per state, through an outage and a recovery', async () => {
    const { clock, breaker, registry } = setup();
    const state = () => samples(registry, 'circuitbreaker_state');
    const expectState = async (current: string) => {
      const all = await state();
      for (const s of ['closed', 'open', 'half_open', 'forced_open', 'disabled']) {
        expect(all[`circuitbreaker_state{name=payments,state=${s}}`]).toBe(s === current ? 1 : 0);
      }
    };
    await expectState('closed');
    call(breaker, clock, 10, new Boom());
    call(breaker, clock, 10, new Boom());
    await expectState('open');
    clock.advance(1_000);
    await expectState('half_open');
    call(breaker, clock, 5);
    await expectState('closed');
    breaker.isolate();
    await expectState('forced_open');
    breaker.disable();
    await expectState('disabled');
  });

  it('counts calls by kind in calls_seconds, durations in seconds, timeouts as failed', async () => {
    const { clock, breaker, registry } = setup({ failureThreshold: 100, timeout: 3_000 });
    call(breaker, clock, 250);
    call(breaker, clock, 2_000, new Boom());
    call(breaker, clock, 40, new Ignorable());
    const timedOut = breaker.execute(() => new Promise(() => undefined));
    clock.advance(3_000);
    await expect(timedOut).rejects.toThrow();
    const text = await registry.getSingleMetricAsString('circuitbreaker_calls_seconds');
    expect(text).toContain(
      'circuitbreaker_calls_seconds_count{name="payments",kind="successful"} 1',
    );
    expect(text).toContain(
      'circuitbreaker_calls_seconds_sum{name="payments",kind="successful"} 0.25',
    );
    expect(text).toContain('circuitbreaker_calls_seconds_count{name="payments",kind="failed"} 2');
    expect(text).toContain('circuitbreaker_calls_seconds_sum{name="payments",kind="failed"} 5');
    expect(text).toContain('circuitbreaker_calls_seconds_count{name="payments",kind="ignored"} 1');
    expect(text).toContain('circuitbreaker_calls_seconds_sum{name="payments",kind="ignored"} 0.04');
    // bucket placement: 0.25 s is in le=0.25 but not in le=0.1
    expect(text).toContain(
      'circuitbreaker_calls_seconds_bucket{le="0.1",name="payments",kind="successful"} 0',
    );
    expect(text).toContain(
      'circuitbreaker_calls_seconds_bucket{le="0.25",name="payments",kind="successful"} 1',
    );
  });

  it('counts refusals, transitions and fallbacks', async () => {
    const { clock, breaker, registry } = setup({ fallback: () => 'cached' });
    call(breaker, clock, 1, new Boom());
    call(breaker, clock, 1, new Boom());
    expect(breaker.executeSync(() => 'never')).toBe('cached');
    expect(breaker.executeSync(() => 'never')).toBe('cached');
    expect(breaker.executeSync(() => 'never')).toBe('cached');
    clock.advance(1_000);
    call(breaker, clock, 1);
    expect(await samples(registry, 'circuitbreaker_not_permitted_calls_total')).toEqual({
      'circuitbreaker_not_permitted_calls_total{name=payments,kind=not_permitted}': 3,
    });
    expect(await samples(registry, 'circuitbreaker_state_transitions_total')).toEqual({
      'circuitbreaker_state_transitions_total{name=payments,from=closed,to=open}': 1,
      'circuitbreaker_state_transitions_total{name=payments,from=open,to=half_open}': 1,
      'circuitbreaker_state_transitions_total{name=payments,from=half_open,to=closed}': 1,
    });
    expect(await samples(registry, 'circuitbreaker_fallback_calls_total')).toEqual({
      // the two failures (fallbackOnFailure is on by default) and the three refusals
      'circuitbreaker_fallback_calls_total{name=payments,kind=all}': 5,
    });
  });

  it('reports failure and slow-call rates in percent, -1 below minimumCalls, and the window', async () => {
    const { clock, breaker, registry } = setup({
      policy: 'slow-call',
      windowSize: 10,
      minimumCalls: 4,
      slowCallDuration: 100,
      slowCallRateThreshold: 1,
      failureRateThreshold: 1,
    });
    call(breaker, clock, 10);
    call(breaker, clock, 500, new Boom());
    call(breaker, clock, 200);
    expect(await samples(registry, 'circuitbreaker_failure_rate')).toEqual({
      'circuitbreaker_failure_rate{name=payments}': -1,
    });
    expect(await samples(registry, 'circuitbreaker_slow_call_rate')).toEqual({
      'circuitbreaker_slow_call_rate{name=payments}': -1,
    });
    call(breaker, clock, 10);
    expect(await samples(registry, 'circuitbreaker_failure_rate')).toEqual({
      'circuitbreaker_failure_rate{name=payments}': 25,
    });
    expect(await samples(registry, 'circuitbreaker_slow_call_rate')).toEqual({
      'circuitbreaker_slow_call_rate{name=payments}': 50,
    });
    expect(await samples(registry, 'circuitbreaker_buffered_calls')).toEqual({
      'circuitbreaker_buffered_calls{name=payments,kind=successful}': 3,
      'circuitbreaker_buffered_calls{name=payments,kind=failed}': 1,
    });
    expect(await samples(registry, 'circuitbreaker_slow_calls')).toEqual({
      'circuitbreaker_slow_calls{name=payments,kind=all}': 2,
    });
  });

  it('reports -1 for the consecutive policy until a call is counted since the circuit closed, then its rate', async () => {
    const { clock, breaker, registry } = setup({ failureThreshold: 3 });
    const failureRate = async () =>
      (await samples(registry, 'circuitbreaker_failure_rate'))[
        'circuitbreaker_failure_rate{name=payments}'
      ];
    expect(await failureRate()).toBe(-1);
    call(breaker, clock, 1, new Boom());
    expect(await failureRate()).toBe(100);
    call(breaker, clock, 1);
    // the consecutive policy considers every call since the circuit closed
    expect(await failureRate()).toBe(50);
    expect(await samples(registry, 'circuitbreaker_buffered_calls')).toEqual({
      'circuitbreaker_buffered_calls{name=payments,kind=successful}': 1,
      'circuitbreaker_buffered_calls{name=payments,kind=failed}': 1,
    });
  });

  it('gives the exact resilience4j names with the resilience4j prefix', async () => {
    const { clock, breaker, registry } = setup({}, 'resilience4j_circuitbreaker_');
    call(breaker, clock, 1, new Boom());
    call(breaker, clock, 1, new Boom());
    call(breaker, clock, 1);
    const text = await registry.metrics();
    const names = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(names.sort()).toEqual(
      [
        'resilience4j_circuitbreaker_buffered_calls gauge',
        'resilience4j_circuitbreaker_calls_seconds histogram',
        'resilience4j_circuitbreaker_failure_rate gauge',
        'resilience4j_circuitbreaker_fallback_calls_total counter',
        'resilience4j_circuitbreaker_not_permitted_calls_total counter',
        'resilience4j_circuitbreaker_slow_call_rate gauge',
        'resilience4j_circuitbreaker_slow_calls gauge',
        'resilience4j_circuitbreaker_state gauge',
        'resilience4j_circuitbreaker_state_transitions_total counter',
      ].sort(),
    );
    expect(text).toContain('resilience4j_circuitbreaker_state{name="payments",state="open"} 1');
    expect(text).toContain(
      'resilience4j_circuitbreaker_not_permitted_calls_total{name="payments",kind="not_permitted"} 1',
    );
    expect(text).toContain(
      'resilience4j_circuitbreaker_calls_seconds_count{name="payments",kind="failed"} 2',
    );
  });

  it('drops a disposed breaker at the next scrape, and dispose() unregisters everything', async () => {
    const clock = new ManualClock(0);
    const a = new Breaker({ name: 'a', clock });
    const b = new Breaker({ name: 'b', clock });
    const registry = new Registry();
    const handle = registerCircuitBreakerMetrics([a, b], { registry });
    call(a, clock, 1);
    call(b, clock, 1);
    b.dispose();
    const text = await registry.metrics();
    expect(text).toContain('circuitbreaker_state{name="a",state="closed"} 1');
    expect(text).not.toContain('name="b"');
    handle.dispose();
    handle.dispose();
    expect(registry.getMetricsAsArray()).toHaveLength(0);
    expect(await registry.metrics()).toBe('\n');
    // a fresh registration after dispose works (no duplicate-name error)
    handles.push(registerCircuitBreakerMetrics([a], { registry }));
    expect(await registry.metrics()).toContain('circuitbreaker_state{name="a",state="closed"} 1');
  });

  it('registers twice on one registry without a duplicate-name error; each dispose removes its own', async () => {
    const clock = new ManualClock(0);
    const a = new Breaker({ name: 'a', clock });
    const b = new Breaker({ name: 'b', clock });
    const registry = new Registry();
    const first = registerCircuitBreakerMetrics([a], { registry });
    const second = registerCircuitBreakerMetrics([b], { registry });
    call(a, clock, 1);
    call(b, clock, 1);
    let text = await registry.metrics();
    expect(text).toContain('circuitbreaker_calls_seconds_count{name="a",kind="successful"} 1');
    expect(text).toContain('circuitbreaker_calls_seconds_count{name="b",kind="successful"} 1');
    first.dispose();
    text = await registry.metrics();
    expect(text).not.toContain('name="a"');
    expect(text).toContain('circuitbreaker_calls_seconds_count{name="b",kind="successful"} 1');
    second.dispose();
    expect(registry.getMetricsAsArray()).toHaveLength(0);
  });

  it('uses the given buckets and rejects an invalid prefix or target', () => {
    const registry = new Registry();
    const clock = new ManualClock(0);
    const a = new Breaker({ name: 'a', clock });
    handles.push(registerCircuitBreakerMetrics([a], { registry, buckets: [0.5, 2] }));
    call(a, clock, 1_000);
    return registry.getSingleMetricAsString('circuitbreaker_calls_seconds').then((text) => {
      expect(text).toContain(
        'circuitbreaker_calls_seconds_bucket{le="0.5",name="a",kind="successful"} 0',
      );
      expect(text).toContain(
        'circuitbreaker_calls_seconds_bucket{le="2",name="a",kind="successful"} 1',
      );
      expect(() => registerCircuitBreakerMetrics([a], { registry, prefix: 'bad-prefix' })).toThrow(
        /prefix/,
      );
      expect(() => registerCircuitBreakerMetrics([{} as Breaker], { registry })).toThrow(TypeError);
      const fresh = new Registry();
      expect(() =>
        registerCircuitBreakerMetrics([a], { registry: fresh, buckets: [1, NaN] }),
      ).toThrow(/buckets/);
      expect(fresh.getMetricsAsArray()).toHaveLength(0);
    });
  });

  it('refuses a registry where a metric of the same name is not its own, registering nothing', () => {
    const registry = new Registry();
    new Gauge({ name: 'circuitbreaker_slow_calls', help: 'mine', registers: [registry] });
    const a = new Breaker({ name: 'a' });
    expect(() => registerCircuitBreakerMetrics([a], { registry })).toThrow(
      /already has circuitbreaker_slow_calls/,
    );
    expect(registry.getMetricsAsArray().map((m) => m.name)).toEqual(['circuitbreaker_slow_calls']);
    handles.push(registerCircuitBreakerMetrics([a], { registry, prefix: 'app_circuitbreaker_' }));
    expect(registry.getMetricsAsArray()).toHaveLength(10);
  });

  it('names the counters for an OpenMetrics registry so that their samples still end in _total once', async () => {
    const registry = new Registry<OpenMetricsContentType>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const clock = new ManualClock(0);
    const a = new Breaker({ name: 'a', clock, failureThreshold: 1 });
    handles.push(registerCircuitBreakerMetrics([a], { registry }));
    call(a, clock, 1, new Boom());
    call(a, clock, 1);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE circuitbreaker_not_permitted_calls counter');
    expect(text).toContain(
      'circuitbreaker_not_permitted_calls_total{name="a",kind="not_permitted"} 1',
    );
    expect(text).toContain(
      'circuitbreaker_state_transitions_total{name="a",from="closed",to="open"} 1',
    );
    expect(text).not.toContain('_total_total');
  });
});
