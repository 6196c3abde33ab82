import { afterEach, describe, expect, it } from '@jest/globals';
import {
  AggregationTemporality,
  DataPointType,
  type HistogramMetricData,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  Breaker,
  type BreakerOptions,
  type Disposable,
  ManualClock,
} from '../../lib/core/index.js';
import {
  type CircuitBreakerTelemetryOptions,
  instrumentCircuitBreakers,
} from '../../lib/opentelemetry/index.js';
import { shutDownAll, startMetrics } from './otel-harness.js';

class Boom extends Error {}
class Ignorable extends Error {}

const STATES = ['closed', 'open', 'half_open', 'forced_open', 'disabled'];

const handles: Disposable[] = [];
afterEach(async () => {
  for (const handle of handles.splice(0)) handle.dispose();
  await shutDownAll();
});

function setup(
  options: Partial<BreakerOptions> = {},
  telemetry: CircuitBreakerTelemetryOptions = {},
) {
  const clock = new ManualClock(1_000_000);
  const breaker = new Breaker({
    name: 'payments',
    clock,
    openDuration: 1_000,
    ignore: (e) => e instanceof Ignorable,
    failureThreshold: 2,
    ...options,
  });
  const { provider, collect } = startMetrics();
  handles.push(instrumentCircuitBreakers([breaker], { meterProvider: provider, ...telemetry }));
  return { clock, breaker, collect, provider };
}

/** A call that takes `ms` on the manual clock and then returns or throws `error`. */
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

/** The five `circuit_breaker.state` series of `breaker`, with `current` at 1. */
const stateSeries = (breaker: string, current: string): Record<string, number> =>
  Object.fromEntries(
    STATES.map((s) => [
      `circuit_breaker.name=${breaker},circuit_breaker.state=${s}`,
      s === current ? 1 : 0,
    ]),
  );

describe('instrumentCircuitBreakers on engine breakers', () => {
  it('reports the state as one 1/0 series per state, through an outage and a recovery', async () => {
    const { clock, breaker, collect } = setup();
    const expectState = async (current: string) => {
      expect((await collect()).values('circuit_breaker.state')).toEqual(
        stateSeries('payments', current),
      );
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
    const state = (await collect()).metric('circuit_breaker.state');
    // an up-down counter, as hw.status is
    expect(state).toMatchObject({ dataPointType: DataPointType.SUM, isMonotonic: false });
    expect(state.descriptor.unit).toBe('1');
  });

  it('times calls in seconds by outcome, with error.type on failures and timeouts', async () => {
    const { clock, breaker, collect } = setup({ failureThreshold: 100, timeout: 3_000 });
    call(breaker, clock, 250);
    call(breaker, clock, 2_000, new Boom());
    call(breaker, clock, 500, new TypeError('bad'));
    call(breaker, clock, 100, 'a thrown string');
    call(breaker, clock, 40, new Ignorable());
    const timedOut = breaker.execute(() => new Promise(() => undefined));
    clock.advance(3_000);
    await expect(timedOut).rejects.toThrow();
    const collected = await collect();
    const base = 'circuit_breaker.name=payments,circuit_breaker.outcome=';
    const counts = {
      [`${base}success`]: 1,
      [`${base}failure,error.type=Boom`]: 1,
      [`${base}failure,error.type=TypeError`]: 1,
      [`${base}failure,error.type=_OTHER`]: 1,
      [`${base}ignored`]: 1,
      [`${base}timeout,error.type=CallTimeoutError`]: 1,
    };
    expect(collected.values('circuit_breaker.call.duration')).toEqual(counts);
    expect(collected.sums('circuit_breaker.call.duration')).toEqual({
      [`${base}success`]: 0.25,
      [`${base}failure,error.type=Boom`]: 2,
      [`${base}failure,error.type=TypeError`]: 0.5,
      [`${base}failure,error.type=_OTHER`]: 0.1,
      [`${base}ignored`]: 0.04,
      [`${base}timeout,error.type=CallTimeoutError`]: 3,
    });
    const duration = collected.metric('circuit_breaker.call.duration') as HistogramMetricData;
    expect(duration.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(duration.descriptor.unit).toBe('s');
    const success = duration.dataPoints.find(
      (p) => p.attributes['circuit_breaker.outcome'] === 'success',
    )!;
    // the advised bounds: 0.25 s falls in the bucket (0.1, 0.25]
    expect(success.value.buckets.boundaries).toEqual([
      0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ]);
    expect(success.value.buckets.counts[6]).toBe(1);
    expect(success.value.buckets.counts.reduce((a, b) => a + b)).toBe(1);
  });

  it('counts refusals by reason and transitions by previous and new state', async () => {
    const { clock, breaker, collect } = setup({ fallback: () => 'cached' });
    call(breaker, clock, 1, new Boom());
    call(breaker, clock, 1, new Boom());
    expect(breaker.executeSync(() => 'never')).toBe('cached');
    expect(breaker.executeSync(() => 'never')).toBe('cached');
    clock.advance(1_000);
    // a probe that stays in flight: the next caller finds every probe slot taken
    const probe = breaker.execute(
      () => new Promise<string>((resolve) => setImmediate(resolve, 'p')),
    );
    expect(breaker.executeSync(() => 'never')).toBe('cached');
    await probe;
    breaker.isolate();
    expect(breaker.executeSync(() => 'never')).toBe('cached');
    const collected = await collect();
    const name = 'circuit_breaker.name=payments';
    expect(collected.values('circuit_breaker.call.rejected')).toEqual({
      [`${name},circuit_breaker.rejection.reason=open`]: 2,
      [`${name},circuit_breaker.rejection.reason=half_open`]: 1,
      [`${name},circuit_breaker.rejection.reason=forced_open`]: 1,
    });
    const t = (from: string, to: string) =>
      `${name},circuit_breaker.previous_state=${from},circuit_breaker.state=${to}`;
    expect(collected.values('circuit_breaker.state_change.count')).toEqual({
      [t('closed', 'open')]: 1,
      [t('open', 'half_open')]: 1,
      [t('half_open', 'closed')]: 1,
      [t('closed', 'forced_open')]: 1,
    });
    expect(collected.metric('circuit_breaker.call.rejected').descriptor.unit).toBe('{call}');
    expect(collected.metric('circuit_breaker.state_change.count')).toMatchObject({
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
    });
  });

  it('counts bulkhead refusals with reason bulkhead', async () => {
    const { breaker, collect } = setup({ maxConcurrent: 1, maxQueue: 0 });
    let release: () => void = () => undefined;
    const running = breaker.execute(() => new Promise<void>((resolve) => (release = resolve)));
    await expect(breaker.execute(() => Promise.resolve())).rejects.toThrow();
    release();
    await running;
    expect((await collect()).values('circuit_breaker.call.rejected')).toEqual({
      'circuit_breaker.name=payments,circuit_breaker.rejection.reason=bulkhead': 1,
    });
  });

  it('names the instruments with the prefix, and leaves the attribute names alone', async () => {
    const { clock, breaker, collect } = setup({}, { prefix: 'payments.cb.' });
    call(breaker, clock, 10);
    const names = (await collect()).scopes.flatMap((s) => s.metrics.map((m) => m.descriptor.name));
    expect(names.sort()).toEqual([
      'payments.cb.call.duration',
      'payments.cb.state',
      // counters with nothing counted yet are not exported
    ]);
    call(breaker, clock, 10, new Boom());
    call(breaker, clock, 10, new Boom());
    call(breaker, clock, 0);
    const collected = await collect();
    expect(collected.values('payments.cb.call.rejected')).toEqual({
      'circuit_breaker.name=payments,circuit_breaker.rejection.reason=open': 1,
    });
    expect(collected.has('payments.cb.state_change.count')).toBe(true);
  });

  it('reports 0 for every state of a disposed breaker, once, and then stops observing it', async () => {
    const clock = new ManualClock(0);
    const a = new Breaker({ name: 'a', clock });
    const b = new Breaker({ name: 'b', clock, failureThreshold: 1 });
    const { provider, collect } = startMetrics();
    handles.push(instrumentCircuitBreakers([a, b], { meterProvider: provider }));
    call(b, clock, 1, new Boom());
    expect((await collect()).values('circuit_breaker.state')).toEqual({
      ...stateSeries('a', 'closed'),
      ...stateSeries('b', 'open'),
    });
    b.dispose();
    const zeros = { ...stateSeries('a', 'closed'), ...stateSeries('b', 'none') };
    expect((await collect()).values('circuit_breaker.state')).toEqual(zeros);
    // the SDK goes on exporting the zeros (cumulative temporality keeps a series' last value)
    expect((await collect()).values('circuit_breaker.state')).toEqual(zeros);
  });

  it('stops recording when disposed, reports 0 for its states once; disposing twice does nothing', async () => {
    const clock = new ManualClock(0);
    const a = new Breaker({ name: 'a', clock, failureThreshold: 1 });
    const { provider, collect } = startMetrics();
    const telemetry = instrumentCircuitBreakers([a], { meterProvider: provider });
    call(a, clock, 10);
    let collected = await collect();
    expect(collected.values('circuit_breaker.call.duration')).toEqual({
      'circuit_breaker.name=a,circuit_breaker.outcome=success': 1,
    });
    expect(collected.values('circuit_breaker.state')).toEqual(stateSeries('a', 'closed'));
    telemetry.dispose();
    telemetry.dispose();
    call(a, clock, 10);
    call(a, clock, 10, new Boom());
    call(a, clock, 0);
    collected = await collect();
    // the histogram keeps what it counted before, and counts nothing more
    expect(collected.values('circuit_breaker.call.duration')).toEqual({
      'circuit_breaker.name=a,circuit_breaker.outcome=success': 1,
    });
    expect(collected.has('circuit_breaker.call.rejected')).toBe(false);
    expect(collected.has('circuit_breaker.state_change.count')).toBe(false);
    expect(collected.values('circuit_breaker.state')).toEqual(stateSeries('a', 'none'));
  });

  it('drops an event delivered after dispose() (a listener before it disposed the telemetry)', async () => {
    const clock = new ManualClock(0);
    const a = new Breaker({ name: 'a', clock });
    const { provider, collect } = startMetrics();
    const registration: { telemetry?: { dispose(): void } } = {};
    // subscribed first, so it runs first for the same event, while ours is still to be called
    a.onSuccess(() => registration.telemetry?.dispose());
    registration.telemetry = instrumentCircuitBreakers([a], { meterProvider: provider });
    call(a, clock, 10);
    expect((await collect()).has('circuit_breaker.call.duration')).toBe(false);
  });

  it('reports nothing after disposal when nothing was reported before', async () => {
    const a = new Breaker({ name: 'a' });
    const { provider, collect } = startMetrics();
    instrumentCircuitBreakers([a], { meterProvider: provider }).dispose();
    expect((await collect()).scopes).toHaveLength(0);
  });

  it('keeps two registrations on one meter apart; disposing one leaves the other', async () => {
    const clock = new ManualClock(0);
    const a = new Breaker({ name: 'a', clock, failureThreshold: 1 });
    const b = new Breaker({ name: 'b', clock, failureThreshold: 1 });
    const { provider, collect } = startMetrics();
    const first = instrumentCircuitBreakers([a], { meterProvider: provider });
    handles.push(instrumentCircuitBreakers([b], { meterProvider: provider }));
    call(a, clock, 10, new Boom());
    call(b, clock, 20);
    let collected = await collect();
    expect(collected.scopes).toHaveLength(1);
    expect(collected.values('circuit_breaker.state')).toEqual({
      ...stateSeries('a', 'open'),
      ...stateSeries('b', 'closed'),
    });
    expect(collected.values('circuit_breaker.call.duration')).toEqual({
      'circuit_breaker.name=a,circuit_breaker.outcome=failure,error.type=Boom': 1,
      'circuit_breaker.name=b,circuit_breaker.outcome=success': 1,
    });
    first.dispose();
    call(a, clock, 20);
    call(b, clock, 20);
    collected = await collect();
    expect(collected.values('circuit_breaker.state')).toEqual({
      ...stateSeries('a', 'none'),
      ...stateSeries('b', 'closed'),
    });
    expect(collected.values('circuit_breaker.call.duration')).toEqual({
      'circuit_breaker.name=a,circuit_breaker.outcome=failure,error.type=Boom': 1,
      'circuit_breaker.name=b,circuit_breaker.outcome=success': 2,
    });
  });

  it('exports through the SDK pipeline: a PeriodicExportingMetricReader to an InMemoryMetricExporter', async () => {
    const clock = new ManualClock(0);
    const a = new Breaker({ name: 'a', clock, failureThreshold: 1 });
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    // a long interval: the export below is the flush's, not the timer's
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    try {
      handles.push(instrumentCircuitBreakers([a], { meterProvider: provider }));
      call(a, clock, 10, new Boom());
      await reader.forceFlush();
      const exported = exporter
        .getMetrics()
        .flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.descriptor.name)));
      expect(exported.sort()).toEqual([
        'circuit_breaker.call.duration',
        'circuit_breaker.state',
        'circuit_breaker.state_change.count',
      ]);
    } finally {
      await provider.shutdown();
    }
  });

  it('creates the instruments on a given meter', async () => {
    const clock = new ManualClock(0);
    const a = new Breaker({ name: 'a', clock });
    const { provider, collect } = startMetrics();
    handles.push(instrumentCircuitBreakers([a], { meter: provider.getMeter('my-app', '2.0.0') }));
    call(a, clock, 10);
    const { scopes } = await collect();
    expect(scopes.map((s) => [s.scope.name, s.scope.version])).toEqual([['my-app', '2.0.0']]);
  });
});

describe('instrumentCircuitBreakers: bad input', () => {
  const a = new Breaker({ name: 'a' });

  it.each<[string, unknown, unknown, RegExp]>([
    [
      'options that are not an object',
      [a],
      42,
      /^instrumentCircuitBreakers: options must be an object, received 42 \(number\)$/,
    ],
    [
      'an unknown option',
      [a],
      { meterprovider: {} },
      /unknown option "meterprovider" \(did you mean "meterProvider"\?\)/,
    ],
    [
      'meter and meterProvider',
      [a],
      { meter: {}, meterProvider: {} },
      /give meterProvider or meter, not both/,
    ],
    [
      'a meterProvider without getMeter',
      [a],
      { meterProvider: {} },
      /meterProvider must be a MeterProvider \(with getMeter\(\)\), received \{\} \(object\)/,
    ],
    [
      'a meter without instruments',
      [a],
      { meter: { createHistogram() {} } },
      /meter must be a Meter/,
    ],
    [
      'a prefix with a space',
      [a],
      { prefix: 'my prefix.' },
      /prefix must start an OpenTelemetry instrument name .*received "my prefix\." \(string\)/,
    ],
    ['a prefix starting with a digit', [a], { prefix: '1cb.' }, /prefix must start/],
    ['a too long prefix', [a], { prefix: 'x'.repeat(238) }, /at most 237 characters/],
    [
      'spanEvents not a boolean',
      [a],
      { spanEvents: 'yes' },
      /spanEvents must be a boolean, received "yes" \(string\)/,
    ],
    [
      'a number as target',
      42,
      {},
      /expected a CircuitBreakerRegistry or an iterable of Breakers and BreakerFamilies, received 42 \(number\)$/,
    ],
    [
      'a list with a stranger',
      [a, { name: 'b' }],
      {},
      /received \{"name":"b"\} \(object\) in the list/,
    ],
  ])('refuses %s, creating nothing', async (_, target, options, message) => {
    const { provider, collect } = startMetrics();
    const withProvider =
      typeof options === 'object' &&
      options !== null &&
      !('meter' in options) &&
      !('meterProvider' in options)
        ? { ...options, meterProvider: provider }
        : options;
    expect(() =>
      instrumentCircuitBreakers(
        target as Breaker[],
        withProvider as CircuitBreakerTelemetryOptions,
      ),
    ).toThrow(message);
    expect((await collect()).scopes).toHaveLength(0);
  });

  it('accepts the longest valid prefix', () => {
    const { provider } = startMetrics();
    handles.push(
      instrumentCircuitBreakers([a], { meterProvider: provider, prefix: 'x'.repeat(237) }),
    );
  });
});
