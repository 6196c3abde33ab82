import { NestFactory } from '@nestjs/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { CircuitBreakerRegistry } from '../../lib/index.js';
import { AppModule } from './app.module.js';
import { FlakyDownstream } from './downstream.js';

/**
 * `npm run sample`: starts a flaky downstream service and the Nest app, drives traffic through an
 * outage and a recovery, prints every transition and health answer as they happen, and exits.
 * `npm run sample:serve`: starts both and keeps serving (PORT, default 3000) for manual use.
 */
const serve = process.argv.includes('--serve');
const started = performance.now();

function log(line: string): void {
  const seconds = ((performance.now() - started) / 1_000).toFixed(2).padStart(5);
  console.log(`[${seconds} s] ${line}`);
}

async function main(): Promise<void> {
  const downstream = new FlakyDownstream();
  const downstreamUrl = await downstream.start(
    serve ? Number(process.env.DOWNSTREAM_PORT ?? 0) : 0,
  );
  const app = await NestFactory.create(AppModule.register(downstreamUrl), {
    logger: ['error', 'warn'],
  });
  const registry = app.get(CircuitBreakerRegistry);
  const transitions: string[] = [];
  registry.events$.subscribe((e) => {
    if (e.type !== 'stateChange') return;
    transitions.push(`${e.event.from}->${e.event.to}`);
    log(`transition  breaker "${e.breaker}": ${e.event.from} -> ${e.event.to} (${e.event.reason})`);
  });

  if (serve) {
    app.enableShutdownHooks();
    await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
    const url = await app.getUrl();
    log(`downstream service on ${downstreamUrl}; app on ${url}`);
    console.log(`
  curl -i ${url}/quote/acme          a quote, through the circuit breaker
  curl -i ${url}/health              the breakers' health (Terminus)
  curl -X POST ${downstreamUrl}/fail     make the downstream service fail
  curl -X POST ${downstreamUrl}/recover  make it answer again
Ctrl-C to stop.`);
    process.once('SIGINT', () => void downstream.stop());
    process.once('SIGTERM', () => void downstream.stop());
    return;
  }

  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  log(`downstream service on ${downstreamUrl}; app on ${url}`);

  const get = async (path: string): Promise<{ status: number; body: string }> => {
    const response = await fetch(`${url}${path}`);
    let body = await response.text();
    if (path === '/health') {
      // Terminus repeats the details under info/error; show the overall status and the breakers.
      const health = JSON.parse(body) as { status: string; details: { circuits: unknown } };
      body = `${health.status} ${JSON.stringify(health.details.circuits)}`;
    }
    const retryAfter = response.headers.get('retry-after');
    log(
      `GET ${path.padEnd(12)} -> ${response.status}${retryAfter ? ` (Retry-After: ${retryAfter})` : ''} ${body}`,
    );
    return { status: response.status, body };
  };
  const waitForOpenPeriod = async (): Promise<void> => {
    const retryAfter = registry.get('downstream').stats().retryAfter ?? 0;
    log(`waiting ${Math.ceil(retryAfter)} ms for the open period to end`);
    await sleep(Math.ceil(retryAfter) + 20);
  };

  log('== 1. the downstream service is healthy');
  for (const id of ['acme', 'globex', 'initech']) await get(`/quote/${id}`);
  await get('/health');

  log('== 2. outage: the downstream service answers 500');
  downstream.fail();
  for (let i = 0; i < 5; i++) await get('/quote/acme');
  await get('/health');

  log('== 3. the open period ends: one probe goes, fails, and the circuit opens again');
  await waitForOpenPeriod();
  await get('/health');
  await get('/quote/acme');
  await get('/quote/acme');

  log('== 4. the downstream service recovers: the next probe closes the circuit');
  downstream.recover();
  await waitForOpenPeriod();
  await get('/quote/acme');
  await get('/health');

  const stats = registry.get('downstream').stats();
  log(
    `done: ${stats.calls} calls, ${stats.successes} successes, ${stats.failures} failures, ` +
      `${stats.rejections} refused without reaching the downstream service ` +
      `(it saw ${downstream.requests} requests)`,
  );
  await app.close();
  await downstream.stop();

  const expected = [
    'CLOSED->OPEN',
    'OPEN->HALF_OPEN',
    'HALF_OPEN->OPEN',
    'OPEN->HALF_OPEN',
    'HALF_OPEN->CLOSED',
  ];
  if (transitions.join() !== expected.join()) {
    throw new Error(`unexpected transitions: ${transitions.join(', ')}`);
  }
}

// A scripted run never needs long; never hang a terminal or a CI job.
if (!serve) setTimeout(() => (console.error('sample timed out'), process.exit(1)), 60_000).unref();

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
