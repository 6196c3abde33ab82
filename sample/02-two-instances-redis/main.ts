import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Downstream } from './downstream.js';
import type { InstanceMessage } from './instance.js';
import { type SampleRedis, startRedis } from './redis.js';

/**
 * `npm run sample:redis`: two instances of one Nest service, each in its own process, share the
 * `downstream` circuit breaker through Redis. Instance A sees the downstream service fail and
 * trips the breaker; instance B then refuses its calls (503) without ever sending them; when the
 * service is back, one probe fleet-wide closes the circuit on both. Prints each step and
 * transition as it happens, checks the sequence, and exits (non-zero if it did not happen).
 *
 * Redis: a redis-server of its own on a free loopback port when the binary is installed, else the
 * one REDIS_URL names.
 */
const started = performance.now();
const OUTAGE_CALLS = 3; // the breakers' failureThreshold (app.module.ts)
const BURST = 3;

function log(line: string): void {
  const seconds = ((performance.now() - started) / 1_000).toFixed(2).padStart(5);
  console.log(`[${seconds} s] ${line}`);
}

class Instance {
  readonly transitions: string[] = [];
  url = '';
  private readonly child: ChildProcess;
  private readonly ready: Promise<void>;

  constructor(
    readonly name: string,
    env: Record<string, string>,
  ) {
    this.child = fork(fileURLToPath(new URL('./instance.js', import.meta.url)), [], {
      env: { ...process.env, ...env, INSTANCE: name },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('exit', (code) => reject(new Error(`instance ${name} exited (${code})`)));
      this.child.on('message', (message: InstanceMessage) => {
        switch (message.type) {
          case 'ready':
            this.url = message.url;
            resolve();
            break;
          case 'transition':
            this.transitions.push(`${message.from}->${message.to}`);
            log(
              `instance ${name}: breaker "downstream" ${message.from} -> ${message.to} (${message.reason})`,
            );
            break;
          case 'storeStatus':
            log(`instance ${name}: store ${message.status}`);
            break;
          case 'log':
            log(`instance ${name}: ${message.line}`);
            break;
        }
      });
    });
  }

  async started(): Promise<void> {
    await this.ready;
  }

  /** GET through this instance; logs the answer. */
  async get(path: string): Promise<number> {
    const response = await fetch(`${this.url}${path}`);
    const body = (await response.text()).slice(0, 90);
    const retryAfter = response.headers.get('retry-after');
    log(
      `${this.name} GET ${path.padEnd(13)} -> ${response.status}` +
        `${retryAfter ? ` (Retry-After: ${retryAfter})` : ''} ${body}`,
    );
    return response.status;
  }

  /** This instance's view of the breaker. */
  async breaker(): Promise<{
    state: string;
    store: string;
    retryAfter?: number;
    unrecorded: number;
  }> {
    return (await (await fetch(`${this.url}/breaker`)).json()) as {
      state: string;
      store: string;
      retryAfter?: number;
      unrecorded: number;
    };
  }

  /** Asks the instance to shut down; kills it if it has not within 5 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (child.connected) child.send('stop');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Waits until `check` holds, or fails the sample after `ms`. */
async function until(
  check: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function expect(ok: boolean, what: string): void {
  if (!ok) throw new Error(`expected ${what}`);
  log(`ok: ${what}`);
}

async function main(): Promise<void> {
  const redis = await startRedis();
  if (redis === undefined) {
    console.error(
      'This sample needs Redis: install redis-server (it starts its own on a free port), ' +
        'or set REDIS_URL=redis://host:port.',
    );
    process.exitCode = 1;
    return;
  }
  const downstream = new Downstream();
  const instances: Instance[] = [];
  try {
    await run(redis, downstream, instances);
  } finally {
    await Promise.all(instances.map((i) => i.stop()));
    await downstream.stop();
    await redis.stop();
  }
}

async function run(redis: SampleRedis, downstream: Downstream, instances: Instance[]) {
  const downstreamUrl = await downstream.start();
  log(`Redis: ${redis.description}; downstream service on ${downstreamUrl}`);
  const env = {
    REDIS_URL: redis.url,
    DOWNSTREAM_URL: downstreamUrl,
    PREFIX: `sample-02:${process.pid}:`,
  };
  const a = new Instance('A', env);
  const b = new Instance('B', env);
  instances.push(a, b);
  await Promise.all([a.started(), b.started()]);
  log(`instance A serves on ${a.url}, instance B on ${b.url}, both on the same Redis`);

  log('== 1. the downstream service is healthy: both instances call it');
  expect((await a.get('/quote/acme')) === 200, 'A answers 200');
  expect((await b.get('/quote/globex')) === 200, 'B answers 200');
  // An instance answers before Redis has recorded the call's outcome. Redis counts the fleet's
  // consecutive failures in the order outcomes reach it: B's success, arriving after A's first
  // failure on a busy machine, would reset the count and the fleet would stay CLOSED.
  await until(
    async () => (await a.breaker()).unrecorded + (await b.breaker()).unrecorded === 0,
    5_000,
    'both instances to have their outcomes recorded in Redis',
  );

  log('== 2. outage: the downstream service answers 500; only instance A gets traffic');
  downstream.fail();
  const fromB = downstream.received.B ?? 0;
  for (let i = 0; i < OUTAGE_CALLS; i++) await a.get('/quote/acme');
  await until(() => a.transitions.includes('CLOSED->OPEN'), 2_000, 'A to open');
  await until(() => b.transitions.includes('CLOSED->OPEN'), 5_000, 'B to hear of it');
  expect(true, "B opened too, from A's failures (Redis counted them, then told every instance)");

  log('== 3. instance B gets traffic: it refuses at once, without calling the downstream service');
  for (let i = 0; i < OUTAGE_CALLS; i++) {
    expect((await b.get('/quote/globex')) === 503, 'B refuses with 503');
  }
  expect(
    (downstream.received.B ?? 0) === fromB,
    `the downstream service received no request from B during the outage (still ${fromB})`,
  );
  const view = await b.breaker();
  log(`B's breaker: ${JSON.stringify(view)}`);

  log('== 4. the downstream service recovers (answering in 500 ms): one probe, fleet-wide');
  downstream.recover(500);
  const wait = Math.ceil((await a.breaker()).retryAfter ?? 0);
  log(`waiting ${wait} ms for the open period to end`);
  await new Promise((resolve) => setTimeout(resolve, wait + 50));
  const before = downstream.total();
  log(`${BURST} requests to each instance at once`);
  const statuses = await Promise.all(
    [...Array<Instance>(BURST).fill(a), ...Array<Instance>(BURST).fill(b)].map((i) =>
      i.get('/quote/initech'),
    ),
  );
  expect(
    statuses.filter((s) => s === 200).length === 1 &&
      statuses.filter((s) => s === 503).length === 5,
    'one request was the probe (200), the other five were refused while it ran (503)',
  );
  expect(downstream.total() === before + 1, 'the downstream service received exactly one request');
  await until(() => a.transitions.includes('HALF_OPEN->CLOSED'), 2_000, 'A to close');
  await until(() => b.transitions.includes('HALF_OPEN->CLOSED'), 2_000, 'B to close');

  log('== 5. both instances call the downstream service again');
  downstream.recover(0);
  expect((await a.get('/quote/acme')) === 200, 'A answers 200');
  expect((await b.get('/quote/globex')) === 200, 'B answers 200');

  const expected = ['CLOSED->OPEN', 'OPEN->HALF_OPEN', 'HALF_OPEN->CLOSED'].join(', ');
  for (const i of [a, b]) {
    expect(i.transitions.join(', ') === expected, `${i.name} went ${expected}`);
  }
  log(
    `done: the downstream service received ${downstream.received.A ?? 0} requests from A and ` +
      `${downstream.received.B ?? 0} from B`,
  );
}

// Never hang a terminal or a CI job.
setTimeout(() => (console.error('sample timed out'), process.exit(1)), 30_000).unref();

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
