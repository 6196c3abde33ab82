// The real OpenTelemetry SDK, set up for tests: a MeterProvider read on demand by a MetricReader
// (no export interval, so no timer), and a tracer whose active spans propagate through
// AsyncLocalStorage. Every provider made here is shut down by shutDownAll().
import { type Attributes, context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  type DataPoint,
  type Histogram,
  type MetricData,
  MeterProvider,
  MetricReader,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** A reader that collects only when asked: `reader.collect()`. */
class OnDemandReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }

  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const shutdowns: Array<() => Promise<unknown>> = [];

/** Shuts down every provider made since the last call, and the context manager. */
export async function shutDownAll(): Promise<void> {
  for (const shutdown of shutdowns.splice(0).reverse()) await shutdown();
}

/** What one collection holds: every metric, by name, with the scope that produced it. */
export interface Collected {
  readonly scopes: readonly ScopeMetrics[];
  metric(name: string): MetricData;
  has(name: string): boolean;
  /** The metric's points by their attributes (`a=x,b=y`, sorted by name): the value, or a histogram's count. */
  values(name: string): Record<string, number>;
  /** A histogram's sums, keyed like {@link values}. */
  sums(name: string): Record<string, number>;
}

/** `a=x,b=y`, sorted by attribute name. */
export const key = (attributes: Attributes): string =>
  Object.keys(attributes)
    .sort()
    .map((name) => `${name}=${String(attributes[name])}`)
    .join(',');

function byKey(metric: MetricData, pick: (point: DataPoint<unknown>) => number) {
  const out: Record<string, number> = {};
  for (const point of metric.dataPoints as Array<DataPoint<unknown>>) {
    out[key(point.attributes)] = pick(point);
  }
  return out;
}

/** A meter provider with an on-demand reader; `collect()` reads it. */
export function startMetrics(): { provider: MeterProvider; collect: () => Promise<Collected> } {
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ readers: [reader] });
  shutdowns.push(() => provider.shutdown());
  const collect = async (): Promise<Collected> => {
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) throw new AggregateError(errors, 'the collection failed');
    const scopes = resourceMetrics.scopeMetrics;
    const all = new Map(
      scopes.flatMap((scope) => scope.metrics.map((m) => [m.descriptor.name, m])),
    );
    const metric = (name: string): MetricData => {
      const found = all.get(name);
      if (found === undefined)
        throw new Error(`no metric ${name}; collected: ${[...all.keys()].join(', ')}`);
      return found;
    };
    return {
      scopes,
      metric,
      has: (name) => all.has(name),
      values: (name) =>
        byKey(metric(name), (point) =>
          typeof point.value === 'number' ? point.value : (point.value as Histogram).count,
        ),
      sums: (name) => byKey(metric(name), (point) => (point.value as Histogram).sum ?? NaN),
    };
  };
  return { provider, collect };
}

/** A tracer whose spans are kept in memory, and AsyncLocalStorage as the global context manager. */
export function startTracing() {
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  shutdowns.push(async () => {
    await provider.shutdown();
    context.disable();
  });
  const tracer = provider.getTracer('test');
  /** Runs `fn` inside a new active span, ends it, and returns the span's events. */
  const inSpan = async (name: string, fn: () => unknown): Promise<ReadableSpan['events']> => {
    await tracer.startActiveSpan(name, async (span) => {
      try {
        await fn();
      } finally {
        span.end();
      }
    });
    const span = exporter.getFinishedSpans().find((s) => s.name === name);
    if (span === undefined) throw new Error(`span ${name} was not exported`);
    return span.events;
  };
  return { tracer, exporter, inSpan };
}
