import { NestFactory } from '@nestjs/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { CircuitBreakerRegistry } from '../../lib/index.js';
import { AppModule } from './app.module.js';
import { QuoteService } from './downstream.js';

/**
 * `npm run sample:axios`: a Nest app calling a quote service with `@nestjs/axios` through a
 * circuit breaker, driven through unknown ids (404s, which do not count), an outage (502s, then
 * 503s without calling the service) and a recovery. Prints what happens, checks it, and exits.
 */
const started = performance.now();

function log(line: string): void {
  const seconds = ((performance.now() - started) / 1_000).toFixed(2).padStart(5);
  console.log(`[${seconds} s] ${line}`);
}

async function main(): Promise<void> {
  const service = new QuoteService();
  const serviceUrl = await service.start();
  const app = await NestFactory.create(AppModule.register(serviceUrl), {
    logger: ['error', 'warn'],
  });
  const registry = app.get(CircuitBreakerRegistry);
  const transitions: string[] = [];
  registry.events$.subscribe((e) => {
    if (e.type !== 'stateChange') return;
    transitions.push(`${e.event.from}->${e.event.to}`);
    log(`transition  breaker "${e.breaker}": ${e.event.from} -> ${e.event.to} (${e.event.reason})`);
  });
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  log(`quote service on ${serviceUrl}; app on ${url}`);

  const statuses: number[] = [];
  const get = async (path: string): Promise<void> => {
    const response = await fetch(`${url}${path}`);
    const body = await response.text();
    const retryAfter = response.headers.get('retry-after');
    statuses.push(response.status);
    log(
      `GET ${path.padEnd(20)} -> ${response.status}${retryAfter ? ` (Retry-After: ${retryAfter})` : ''} ${body}`,
    );
  };

  log('== 1. healthy: the Observable route and the firstValueFrom route');
  await get('/quote/acme');
  await get('/quote/globex/async');

  log('== 2. unknown ids: the service answers 404, the caller’s fault; the circuit stays closed');
  for (let i = 0; i < 5; i++) await get(`/quote/unknown-${i}${i % 2 === 0 ? '' : '/async'}`);

  log('== 3. outage: 500s are failures (502 here); after 3 the circuit opens and answers 503');
  service.fail();
  for (let i = 0; i < 5; i++) await get(`/quote/acme${i % 2 === 0 ? '' : '/async'}`);

  log('== 4. recovery: after the open period one probe goes and closes the circuit');
  service.recover();
  const retryAfter = registry.get('quotes').stats().retryAfter ?? 0;
  log(`waiting ${Math.ceil(retryAfter)} ms for the open period to end`);
  await sleep(Math.ceil(retryAfter) + 20);
  await get('/quote/acme');
  await get('/quote/initech/async');

  const stats = registry.get('quotes').stats();
  log(
    `done: ${stats.calls} calls, ${stats.successes} successes, ${stats.ignored} ignored 404s, ` +
      `${stats.failures} failures, ${stats.rejections} refused without calling the service ` +
      `(it saw ${service.requests} requests)`,
  );
  await app.close();
  await service.stop();

  const expected = {
    statuses: [200, 200, 404, 404, 404, 404, 404, 502, 502, 502, 503, 503, 200, 200],
    transitions: ['CLOSED->OPEN', 'OPEN->HALF_OPEN', 'HALF_OPEN->CLOSED'],
    counts: { successes: 4, ignored: 5, failures: 3, rejections: 2 },
  };
  const seen = {
    statuses,
    transitions,
    counts: {
      successes: stats.successes,
      ignored: stats.ignored,
      failures: stats.failures,
      rejections: stats.rejections,
    },
  };
  if (JSON.stringify(seen) !== JSON.stringify(expected)) {
    throw new Error(
      `unexpected run:\n  saw      ${JSON.stringify(seen)}\n  expected ${JSON.stringify(expected)}`,
    );
  }
}

// A scripted run never needs long; never hang a terminal or a CI job.
setTimeout(() => (console.error('sample timed out'), process.exit(1)), 60_000).unref();

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
