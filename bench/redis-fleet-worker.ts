/**
 * One instance of case 9's fleet, in its own process: a breaker on a `RedisStore` (quorum 1, other
 * store options default), and `CLIENTS` callers calling a dependency through it in a loop. The
 * dependency is in the process (1 ms per call), and fails while the parent says so. The worker
 * reports every transition of the breaker with a timestamp comparable across the processes of one
 * machine, and every store status change once it was ready; the parent can reset the fleet's
 * circuit through this instance, and stop it (it then exits by itself).
 */
import { performance } from 'node:perf_hooks';
import { Breaker, isCircuitOpenError } from '../lib/core/index.js';
import { RedisStore } from '../lib/redis/index.js';

const send = (message: Record<string, unknown>) => process.send?.({ ...message, pid: process.pid });
/** Milliseconds since the epoch, sub-millisecond, on the clock every process of the host shares. */
const stamp = () => performance.timeOrigin + performance.now();

let ready = false;
const store = new RedisStore({
  redis: process.env.REDIS_URL!,
  prefix: process.env.PREFIX!,
  quorum: 1,
  logger: { warn: () => undefined, log: () => undefined },
});
const breaker = new Breaker({
  name: 'fleet',
  store,
  failureThreshold: Number(process.env.THRESHOLD),
  // No round lasts this long: every open period of the case ends by a reset.
  openDuration: 3_600_000,
});
breaker.onStateChange((e) => send({ type: 'transition', to: e.to, at: stamp() }));
breaker.onStoreStatus((e) => {
  if (ready) send({ type: 'status', status: e.status });
});

let failing = false;
let running = true;
const dependency = async (): Promise<void> => {
  await new Promise((resolve) => setTimeout(resolve, 1));
  if (failing) throw new Error('dependency down');
};

async function client(): Promise<void> {
  while (running) {
    try {
      await breaker.execute(dependency);
    } catch (error) {
      // A refused caller backs off a little, as a real one would; failures retry at once.
      if (isCircuitOpenError(error)) await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
}

const loops: Array<Promise<void>> = [];
const waitShared = setInterval(() => {
  if (store.status !== 'shared') return;
  clearInterval(waitShared);
  ready = true;
  for (let i = 0; i < Number(process.env.CLIENTS); i++) loops.push(client());
  send({ type: 'ready' });
}, 5);

process.on('message', (message: { type: string }) => {
  switch (message.type) {
    case 'fail':
      failing = true;
      break;
    case 'heal':
      failing = false;
      send({ type: 'healed' });
      break;
    case 'reset':
      breaker.reset();
      break;
    case 'stop':
      running = false;
      clearInterval(waitShared);
      void Promise.all(loops).then(async () => {
        breaker.dispose();
        await store.close();
        process.disconnect?.();
      });
      break;
  }
});
