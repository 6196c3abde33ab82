import { NestFactory } from '@nestjs/core';
import { CircuitBreakerRegistry } from '../../lib/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { AppModule } from './app.module.js';

/**
 * One instance of the service, in its own process (main.ts starts two). It reports to main.ts over
 * IPC: when it serves (and where), every transition of its breaker, and its store's status; it
 * shuts down when told to.
 */
export type InstanceMessage =
  | { type: 'ready'; url: string }
  | { type: 'transition'; from: string; to: string; reason: string }
  | { type: 'storeStatus'; status: string }
  | { type: 'log'; line: string };

const instance = process.env.INSTANCE ?? '?';
const send = (message: InstanceMessage) => process.send?.(message);

async function main(): Promise<void> {
  const store = new RedisStore({
    redis: process.env.REDIS_URL!,
    prefix: process.env.PREFIX,
    // quorum 1: one instance's failures are enough to open the circuit for the whole fleet, which
    // is what this sample shows. The default, 2, needs failures from two distinct instances: a
    // single failing instance then opens only its own circuit and the fleet keeps serving (the
    // protection against one bad instance, say one with a broken network path, taking all down).
    quorum: 1,
    logger: {
      warn: (line) => send({ type: 'log', line }),
      log: (line) => send({ type: 'log', line }),
    },
  });
  // Serve only once the store shares state: before that, breakers decide locally.
  const deadline = Date.now() + 5_000;
  while (store.status !== 'shared') {
    if (Date.now() > deadline) throw new Error(`the Redis store is ${store.status}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }

  const app = await NestFactory.create(
    AppModule.register({ store, downstreamUrl: process.env.DOWNSTREAM_URL!, instance }),
    { logger: ['error', 'warn'] },
  );
  await app.init(); // declares the breakers named by @CircuitBreaker()
  const registry = app.get(CircuitBreakerRegistry);
  registry.events$.subscribe((e) => {
    if (e.type === 'stateChange') {
      send({ type: 'transition', from: e.event.from, to: e.event.to, reason: e.event.reason });
    }
  });
  registry.get('downstream').onStoreStatus((e) => send({ type: 'storeStatus', status: e.status }));
  await app.listen(0, '127.0.0.1');
  send({ type: 'ready', url: await app.getUrl() });

  process.on('message', (message) => {
    if (message !== 'stop') return;
    void (async () => {
      await app.close();
      await store.close();
      process.disconnect();
    })();
  });
}

main().catch((error: unknown) => {
  console.error(`instance ${instance}:`, error);
  process.exit(1);
});
