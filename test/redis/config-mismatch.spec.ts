/**
 * Instances that disagree about a shared circuit's configuration, each in its own process
 * (fixtures/config-worker.ts) on a real redis-server, and the rule of the README ("Many instances",
 * configuration): the configuration in use wins; an instance whose configuration differs warns
 * (naming the breaker, each differing option and both values), reports `degraded` with a
 * CircuitConfigMismatchError, and decides alone; a configuration nobody has used for
 * staleConfigAfter is replaced by the next instance that differs, which then shares again, and so
 * do the instances of its configuration. The tests assert states, counts and what was logged;
 * waits are on conditions, with deadlines only as hang guards.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Breaker, BreakerOptionsError } from '../../lib/core/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { eventually } from '../core/helpers/eventually.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';

let redis: TestRedis;
const running: Instance[] = [];
const stores: RedisStore[] = [];

beforeAll(async () => {
  redis = await startRedis();
}, 30_000);

afterEach(async () => {
  await Promise.all(running.splice(0).map((w) => w.stop()));
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await redis?.stop();
});

const silent = { warn: () => undefined, log: () => undefined };

interface Status {
  status: string;
  error?: string;
  differences?: Array<{ option: string; local: unknown; shared: unknown }>;
}

interface Answer {
  reached: number;
  refused: number;
  state: string;
  store: string;
  stats: { mismatched: Array<{ breaker: string }> };
}

/** One instance in its own process: what it logged and reported, and a way to ask it things. */
class Instance {
  readonly logs: string[] = [];
  readonly statuses: Status[] = [];
  private readonly child: ChildProcess;
  private readonly answers = new Map<number, (answer: Answer) => void>();
  private nextId = 0;
  private readonly exited: Promise<number | null>;

  constructor(prefix: string, threshold: number, options: { staleMs?: number } = {}) {
    this.child = fork(fileURLToPath(new URL('./fixtures/config-worker.ts', import.meta.url)), {
      execArgv: ['--import', 'tsx'],
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        REDIS_URL: redis.url,
        PREFIX: prefix,
        THRESHOLD: String(threshold),
        OPEN_MS: '60000',
        RETRY_MS: '100',
        STALE_MS: String(options.staleMs ?? 60_000),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.on('message', (m: { type: string; id?: number; level?: string; m?: string }) => {
      if (m.type === 'log') this.logs.push(`${m.level}: ${m.m}`);
      if (m.type === 'status') this.statuses.push(m as unknown as Status);
      if (m.type === 'answer') this.answers.get(m.id!)?.(m as unknown as Answer);
    });
    running.push(this);
  }

  get pid(): number {
    return this.child.pid!;
  }

  ask(type: string, body: Record<string, unknown> = {}): Promise<Answer> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.answers.set(id, resolve);
      this.child.send({ type, id, ...body });
    });
  }

  calls(n: number, fail = false): Promise<Answer> {
    return this.ask('calls', { n, fail });
  }

  /** The store statuses reported, by name. */
  statusNames(): string[] {
    return this.statuses.map((s) => s.status);
  }

  async stop(): Promise<number | null> {
    const i = running.indexOf(this);
    if (i >= 0) running.splice(i, 1);
    if (this.child.connected && this.child.exitCode === null) await this.ask('stop');
    return this.exited;
  }
}

/** The circuit's configuration as Redis holds it (its JSON, parsed), or undefined. */
async function storedConfig(prefix: string): Promise<Record<string, unknown> | undefined> {
  const client = redis.client();
  try {
    const json = await client.hget(`${prefix}{payments}`, 'cj');
    return json === null ? undefined : (JSON.parse(json) as Record<string, unknown>);
  } finally {
    client.disconnect();
  }
}

async function storedState(prefix: string): Promise<string | null> {
  const client = redis.client();
  try {
    return await client.hget(`${prefix}{payments}`, 's');
  } finally {
    client.disconnect();
  }
}

describe('instances whose configurations of a shared circuit differ', () => {
  it('the one that joins with another failureThreshold warns, reports degraded with the differences, and decides alone; the other keeps sharing', async () => {
    const prefix = `config-a:${Date.now()}:`;
    const a = new Instance(prefix, 5);
    await eventually(() => expect(a.statusNames()).toEqual(['shared']), 20_000);
    expect((await a.calls(1)).reached).toBe(1);
    await eventually(async () => expect((await storedConfig(prefix))?.t).toBe(5), 10_000);

    const b = new Instance(prefix, 10);
    await eventually(() => expect(b.statusNames()).toEqual(['degraded']), 20_000);
    expect(b.statuses[0]).toMatchObject({
      status: 'degraded',
      error: 'CircuitConfigMismatchError',
      differences: [{ option: 'failureThreshold', local: 10, shared: 5 }],
    });
    expect(b.logs).toEqual([
      expect.stringMatching(/^warn: .*"payments".*failureThreshold: 10 here, 5 in Redis/),
    ]);
    const bState = await b.ask('state');
    expect(bState.store).toBe('degraded');
    expect(bState.stats.mismatched).toEqual([
      { breaker: 'payments', differences: [{ option: 'failureThreshold', local: 10, shared: 5 }] },
    ]);

    // A's five failures trip the fleet's circuit, on the configuration in Redis (A's)...
    expect((await a.calls(5, true)).reached).toBe(5);
    await eventually(async () => expect(await storedState(prefix)).toBe('OPEN'), 10_000);
    await eventually(async () => expect((await a.ask('state')).state).toBe('OPEN'), 10_000);
    // ...which B, deciding alone, does not follow: its calls still go.
    expect(await b.calls(3)).toMatchObject({ reached: 3, refused: 0, state: 'CLOSED' });
    // An instance that joins with its own configuration while the fleet's circuit is open starts
    // from the fleet's state: it decides alone, and refuses without calling.
    const c = new Instance(prefix, 7);
    await eventually(() => expect(c.statusNames()).toEqual(['degraded']), 20_000);
    expect(await c.calls(2)).toMatchObject({ reached: 0, refused: 2, state: 'OPEN' });
    expect(await c.stop()).toBe(0);
    // B's own circuit trips on B's own threshold.
    expect(await b.calls(9, true)).toMatchObject({ reached: 9, state: 'CLOSED' });
    expect(await b.calls(1, true)).toMatchObject({ reached: 1, state: 'OPEN' });

    // A never saw anything wrong; the configuration in Redis is still A's.
    expect(a.statusNames()).toEqual(['shared']);
    expect(a.logs).toEqual([]);
    expect((await storedConfig(prefix))?.t).toBe(5);
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
  }, 60_000);

  it('rolling deploy: the configuration in use wins; once no running instance has used it for staleConfigAfter, a new one replaces it, and every instance of it shares again', async () => {
    const prefix = `config-b:${Date.now()}:`;
    const STALE_MS = 1_500;
    // The old version, idle after one call: it still marks its configuration used while it runs.
    const old = new Instance(prefix, 5, { staleMs: STALE_MS });
    await eventually(() => expect(old.statusNames()).toEqual(['shared']), 20_000);
    expect((await old.calls(1)).reached).toBe(1);
    await eventually(async () => expect((await storedConfig(prefix))?.t).toBe(5), 10_000);

    // Two instances of the new version join: both decide alone, while the old one runs...
    const next = [
      new Instance(prefix, 8, { staleMs: STALE_MS }),
      new Instance(prefix, 8, { staleMs: STALE_MS }),
    ];
    for (const n of next) {
      await eventually(() => expect(n.statusNames()).toEqual(['degraded']), 20_000);
      expect(n.statuses[0]!.differences).toEqual([
        { option: 'failureThreshold', local: 8, shared: 5 },
      ]);
    }
    // ...however long that is (here: three times staleConfigAfter, checking every 100 ms).
    const joined = Date.now();
    await eventually(() => expect(Date.now()).toBeGreaterThan(joined + 3 * STALE_MS), 10_000);
    for (const n of next) expect(n.statusNames()).toEqual(['degraded']);
    expect((await storedConfig(prefix))?.t).toBe(5);

    // The old instance freezes (SIGSTOP: as good as stopped, for Redis). After staleConfigAfter,
    // one of the new ones replaces the configuration; both share again.
    process.kill(old.pid, 'SIGSTOP');
    try {
      for (const n of next) {
        await eventually(() => expect(n.statusNames()).toEqual(['degraded', 'shared']), 20_000);
      }
    } finally {
      process.kill(old.pid, 'SIGCONT');
    }
    expect((await storedConfig(prefix))?.t).toBe(8);
    const replaced = next.flatMap((n) => n.logs.filter((m) => m.includes('replaced it')));
    expect(replaced).toEqual([
      expect.stringMatching(/^warn: .*"payments".*failureThreshold: 8 now, 5 before/),
    ]);
    for (const n of next) {
      expect(n.logs.filter((m) => m.startsWith('log: '))).toEqual([
        expect.stringMatching(/"payments" has the configuration shared in Redis again/),
      ]);
    }

    // The old instance runs again and is told at once (pub/sub): now it decides alone.
    await eventually(() => expect(old.statusNames()).toEqual(['shared', 'degraded']), 10_000);
    expect(old.statuses[1]!.differences).toEqual([
      { option: 'failureThreshold', local: 5, shared: 8 },
    ]);
    expect(old.logs).toEqual([
      expect.stringMatching(/^warn: .*"payments".*failureThreshold: 5 here, 8 in Redis/),
    ]);

    // The new instances share one circuit, on their configuration: 8 failures of one trip both;
    // the old one does not follow.
    const [n1, n2] = next as [Instance, Instance];
    expect((await n1.calls(7, true)).reached).toBe(7);
    expect(await storedState(prefix)).toBe('CLOSED');
    expect((await n1.calls(1, true)).reached).toBe(1);
    await eventually(async () => expect(await storedState(prefix)).toBe('OPEN'), 10_000);
    for (const n of next) {
      await eventually(async () => expect((await n.ask('state')).state).toBe('OPEN'), 10_000);
    }
    expect(await old.calls(1)).toMatchObject({ reached: 1, state: 'CLOSED' });

    for (const w of [old, n1, n2]) expect(await w.stop()).toBe(0);
  }, 90_000);
});

describe('breakers of one name with different configurations on one store', () => {
  it('bind throws a BreakerOptionsError naming the breaker and the options that differ', async () => {
    const store = new RedisStore({
      redis: redis.url,
      prefix: `config-c:${Date.now()}:`,
      logger: silent,
    });
    stores.push(store);
    const first = new Breaker({ name: 'ledger', store, failureThreshold: 5 });
    try {
      let thrown: unknown;
      try {
        new Breaker({ name: 'ledger', store, failureThreshold: 7, openDuration: 1_000 });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(BreakerOptionsError);
      const e = thrown as BreakerOptionsError;
      expect([e.breakerName, e.option]).toEqual(['ledger', 'store']);
      expect(e.message).toContain('failureThreshold: 7 in this breaker, 5 in the other');
      expect(e.message).toContain('openDuration: 1000 in this breaker, 30000 in the other');
      // The same configuration binds.
      new Breaker({ name: 'ledger', store, failureThreshold: 5 }).dispose();
    } finally {
      first.dispose();
    }
  });
});
