import { NestFactory } from '@nestjs/core';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { FlakyDownstream } from '../01-flaky-downstream/downstream.js';
import { AppModule } from './app.module.js';

/**
 * `npm run sample:ops`: the app of sample 01 with everything an operator uses: Prometheus metrics,
 * OpenTelemetry instruments, the ops endpoints and the live dashboard. Drives an outage, reads the
 * breaker through each of them, closes it through the ops endpoint, checks every answer, prints
 * the URLs, and exits (non-zero on a surprise). `npm run sample:ops -- --serve` keeps serving
 * (PORT, default 3000; the ops password is OPS_PASSWORD, or printed).
 */
const serve = process.argv.includes('--serve');
const started = performance.now();

function log(line: string): void {
  const seconds = ((performance.now() - started) / 1_000).toFixed(2).padStart(5);
  console.log(`[${seconds} s] ${line}`);
}

function expect(ok: boolean, what: string): void {
  if (!ok) throw new Error(`expected ${what}`);
  log(`ok: ${what}`);
}

/** Collects on demand: the sample reads the OpenTelemetry metrics when it wants to show them. */
class OnDemandReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The data points of the OpenTelemetry instrument `name`, as `{ attributes, value }`. */
async function otelPoints(reader: MetricReader, name: string) {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .filter((metric) => metric.descriptor.name === name)
    .flatMap((metric) => metric.dataPoints as Array<{ attributes: object; value: unknown }>);
}

async function main(): Promise<void> {
  const downstream = new FlakyDownstream();
  const downstreamUrl = await downstream.start(
    serve ? Number(process.env.DOWNSTREAM_PORT ?? 0) : 0,
  );
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const registry = new Registry();
  const opsPassword = process.env.OPS_PASSWORD ?? randomBytes(9).toString('base64url');
  const app = await NestFactory.create(
    AppModule.register({ downstreamUrl, opsPassword, registry, meterProvider }),
    { logger: ['error', 'warn'] },
  );
  await app.listen(serve ? Number(process.env.PORT ?? 3000) : 0, '127.0.0.1');
  const url = await app.getUrl();
  const auth = { authorization: `Basic ${Buffer.from(`ops:${opsPassword}`).toString('base64')}` };
  log(`downstream service on ${downstreamUrl}; app on ${url}`);
  const urls = `
  ${url}/actuator/circuitbreakers-dashboard   the live dashboard (user ops, password ${opsPassword})
  ${url}/actuator/circuitbreakers             every breaker (resilience4j actuator payloads)
  ${url}/actuator/circuitbreakerevents        recent events
  ${url}/actuator/streamcircuitbreakerevents  the event stream (text/event-stream)
  ${url}/metrics                              Prometheus metrics
  ${url}/quote/acme                           a call through the breaker
  curl -X POST ${downstreamUrl}/fail             make the downstream service fail (/recover: answer again)`;

  if (serve) {
    app.enableShutdownHooks();
    console.log(`${urls}\nCtrl-C to stop.`);
    const stop = () => void Promise.all([downstream.stop(), meterProvider.shutdown()]);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return;
  }

  const get = async (path: string, headers: Record<string, string> = auth) => {
    const response = await fetch(`${url}${path}`, { headers });
    return { status: response.status, text: await response.text() };
  };
  const quote = async () => (await get('/quote/acme', {})).status;
  const details = async () =>
    JSON.parse((await get('/actuator/circuitbreakers/downstream')).text) as {
      state: string;
      failedCalls: number;
      notPermittedCalls: number;
    };
  const stateSeries = async () =>
    (await get('/metrics', {})).text
      .split('\n')
      .filter((line) => line.startsWith('circuitbreaker_state{') && line.endsWith(' 1'));
  const otelState = async () =>
    (await otelPoints(reader, 'circuit_breaker.state'))
      .filter((p) => p.value === 1)
      .map((p) => (p.attributes as Record<string, string>)['circuit_breaker.state']);

  try {
    log('== 1. healthy');
    expect((await quote()) === 200, 'GET /quote/acme answers 200');
    expect(
      (await get('/actuator/circuitbreakers', {})).status === 401,
      'the ops routes refuse a request without credentials (401)',
    );
    expect((await details()).state === 'CLOSED', 'the ops endpoint reports CLOSED');

    log('== 2. outage: 3 failures open the circuit, then calls are refused');
    downstream.fail();
    for (let i = 0; i < 3; i++) await quote();
    expect((await quote()) === 503, 'the 4th call is refused (503)');
    const open = await details();
    log(`ops: ${JSON.stringify(open).slice(0, 160)}...`);
    expect(
      open.state === 'OPEN' && open.failedCalls === 3 && open.notPermittedCalls === 1,
      'the ops endpoint reports OPEN, 3 failed calls, 1 not permitted',
    );
    const series = await stateSeries();
    log(`prometheus: ${series.join(', ')}`);
    expect(
      series.includes('circuitbreaker_state{name="downstream",state="open"} 1'),
      'Prometheus says open',
    );
    const otel = await otelState();
    log(`opentelemetry: circuit_breaker.state = 1 for ${otel.join(', ')}`);
    expect(otel.length === 1 && otel[0] === 'open', 'OpenTelemetry says open');

    log('== 3. an operator closes it through the ops endpoint');
    downstream.recover();
    const response = await fetch(`${url}/actuator/circuitbreakers/downstream`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ updateState: 'CLOSE' }),
    });
    const answer = (await response.json()) as { currentState: string; message: string };
    log(`POST updateState CLOSE -> ${response.status} ${JSON.stringify(answer)}`);
    expect(answer.currentState === 'CLOSED', 'the breaker is CLOSED');
    const events = JSON.parse((await get('/actuator/circuitbreakerevents/downstream')).text) as {
      circuitBreakerEvents: Array<{ type: string; requestedBy?: string }>;
    };
    const reset = events.circuitBreakerEvents.find((e) => e.type === 'RESET');
    expect(reset?.requestedBy === 'ops', 'the event log records the reset and who asked (ops)');
    expect((await quote()) === 200, 'calls go through again (200)');
    console.log(`\nWhile it runs (npm run sample:ops -- --serve), an operator has:${urls}\n`);
    log('done');
  } finally {
    await app.close();
    await downstream.stop();
    await meterProvider.shutdown();
  }
}

// Never hang a terminal or a CI job.
setTimeout(() => (console.error('sample timed out'), process.exit(1)), 30_000).unref();

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
