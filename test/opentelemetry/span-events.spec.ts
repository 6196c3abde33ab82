import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { context, trace } from '@opentelemetry/api';
import { Breaker, type Disposable, ManualClock } from '../../lib/core/index.js';
import { instrumentCircuitBreakers } from '../../lib/opentelemetry/index.js';
import { shutDownAll, startMetrics, startTracing } from './otel-harness.js';

class Boom extends Error {}

const handles: Disposable[] = [];
/** What the breakers reported through `onCallbackError` (a listener of ours that threw). */
const callbackErrors: unknown[] = [];
let tracing: ReturnType<typeof startTracing>;
beforeEach(() => {
  tracing = startTracing();
});
afterEach(async () => {
  for (const handle of handles.splice(0)) handle.dispose();
  await shutDownAll();
  expect(callbackErrors.splice(0)).toEqual([]);
});

function instrumented(spanEvents?: boolean) {
  const clock = new ManualClock(1_000_000);
  const breaker = new Breaker({
    name: 'payments',
    clock,
    failureThreshold: 2,
    openDuration: 1_000,
  });
  const { provider } = startMetrics();
  handles.push(
    instrumentCircuitBreakers([breaker], {
      meterProvider: provider,
      ...(spanEvents === undefined ? {} : { spanEvents }),
    }),
  );
  return { clock, breaker };
}

const failing = () => Promise.reject(new Boom('down'));
const events = (list: Awaited<ReturnType<typeof tracing.inSpan>>) =>
  list.map(({ name, attributes }) => ({ name, attributes }));

describe('span events', () => {
  it("adds the transition to the span of the call whose failure opened the circuit, and the refusal to the refused call's", async () => {
    const { clock, breaker } = instrumented();
    const first = await tracing.inSpan('first', () => breaker.execute(failing).catch(() => 0));
    // the failure settles after an await: the async context still names this call's span
    const second = await tracing.inSpan('second', async () => {
      await Promise.resolve();
      await breaker.execute(failing).catch(() => 0);
    });
    const refused = await tracing.inSpan('refused', () =>
      breaker.execute(() => Promise.resolve(1)).catch(() => 0),
    );
    expect(events(first)).toEqual([]);
    expect(events(second)).toEqual([
      {
        name: 'circuit_breaker.state_change',
        attributes: {
          'circuit_breaker.name': 'payments',
          'circuit_breaker.previous_state': 'closed',
          'circuit_breaker.state': 'open',
          'circuit_breaker.state_change.reason': 'consecutive_failures',
        },
      },
    ]);
    expect(events(refused)).toEqual([
      {
        name: 'circuit_breaker.rejected',
        attributes: {
          'circuit_breaker.name': 'payments',
          'circuit_breaker.rejection.reason': 'open',
          'circuit_breaker.retry_after': 1,
        },
      },
    ]);
    // the probe that finds the open period over moves to HALF_OPEN, and its success closes
    clock.advance(1_000);
    const probe = await tracing.inSpan('probe', () => breaker.execute(() => Promise.resolve(1)));
    expect(events(probe).map((e) => e.attributes?.['circuit_breaker.state'])).toEqual([
      'half_open',
      'closed',
    ]);
    expect(events(probe)[1]!.attributes?.['circuit_breaker.state_change.reason']).toBe(
      'probes_succeeded',
    );
  });

  it('adds a manual transition to the span of its caller', async () => {
    const { breaker } = instrumented();
    const isolating = await tracing.inSpan('admin', () => breaker.isolate());
    expect(events(isolating)).toEqual([
      {
        name: 'circuit_breaker.state_change',
        attributes: {
          'circuit_breaker.name': 'payments',
          'circuit_breaker.previous_state': 'closed',
          'circuit_breaker.state': 'forced_open',
          'circuit_breaker.state_change.reason': 'isolate',
        },
      },
    ]);
    const refused = await tracing.inSpan('refused', () => breaker.execute(failing).catch(() => 0));
    // no retry_after: a forced-open circuit stays open until reset
    expect(events(refused)).toEqual([
      {
        name: 'circuit_breaker.rejected',
        attributes: {
          'circuit_breaker.name': 'payments',
          'circuit_breaker.rejection.reason': 'forced_open',
        },
      },
    ]);
  });

  it('does nothing without an active span, or with a span that does not record', async () => {
    const { breaker } = instrumented();
    expect(trace.getActiveSpan()).toBeUndefined();
    await breaker.execute(failing).catch(() => 0);
    await breaker.execute(failing).catch(() => 0);
    const unsampled = trace.wrapSpanContext({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 0,
    });
    await context.with(trace.setSpan(context.active(), unsampled), () =>
      breaker.execute(failing).catch(() => 0),
    );
    expect(breaker.stats().rejections).toBe(1);
    expect(tracing.exporter.getFinishedSpans()).toHaveLength(0);
  });

  it('adds no events with spanEvents: false, and none after dispose', async () => {
    const { breaker } = instrumented(false);
    const quiet = await tracing.inSpan('quiet', async () => {
      await breaker.execute(failing).catch(() => 0);
      await breaker.execute(failing).catch(() => 0);
      await breaker.execute(failing).catch(() => 0);
    });
    expect(events(quiet)).toEqual([]);

    const other = instrumented();
    handles.pop()!.dispose();
    const disposed = await tracing.inSpan('disposed', async () => {
      await other.breaker.execute(failing).catch(() => 0);
      await other.breaker.execute(failing).catch(() => 0);
      await other.breaker.execute(failing).catch(() => 0);
    });
    expect(events(disposed)).toEqual([]);
  });
});
