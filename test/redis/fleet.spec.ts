/**
 * Four processes share one breaker through a real redis-server. The dependency is an HTTP server in
 * this process that counts every call it receives, and from which instance, so what the fleet sends
 * it is counted where it lands. The tests assert counts, orders and states; waits are on conditions,
 * with deadlines only as hang guards. How soon every instance refuses after the trip is a duration:
 * the benchmark measures it (`npm run bench -- 9`, bench/redis-fleet.ts).
 *
 * The instances' stores get a generous commandTimeout, so that a busy machine rarely makes Redis
 * "unavailable" to one of them (degradation itself is tested in faults.spec.ts and
 * flaky-link.spec.ts). If an instance's store degrades anyway, it reports it, and the tests check
 * the documented degraded bounds instead of the shared ones (README, "Many instances").
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { eventually } from '../core/helpers/eventually.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';

const INSTANCES = 4;
const CLIENTS = 3;
const THRESHOLD = 5;
const OPEN_MS = 1_500;
/**
 * Far above any Redis answer time on a busy machine; the default is 500 ms. FLEET_COMMAND_TIMEOUT=15
 * (ms) makes instances lose Redis now and then, to see the degraded checks at work.
 */
const COMMAND_TIMEOUT = Number(process.env.FLEET_COMMAND_TIMEOUT ?? 5_000);
const PROBES = 1;

interface Transition {
  pid: number;
  from: string;
  to: string;
  reason: string;
  at: number;
}

let redis: TestRedis;
let server: Server;
/** How the dependency answers: per instance (pid), or for everyone ('*'). */
let behaviour: Record<string, 'ok' | 'slow' | 'fail'> = { '*': 'ok' };
const received: Array<{ at: number; instance: string; answer: string }> = [];

beforeAll(async () => {
  redis = await startRedis();
  server = createServer((req, res) => {
    const instance = String(req.headers['x-instance']);
    const answer = behaviour[instance] ?? behaviour['*'] ?? 'ok';
    received.push({ at: Date.now(), instance, answer });
    if (answer === 'fail') {
      res.statusCode = 503;
      res.end('down');
    } else if (answer === 'slow') {
      // Slow enough that other instances try to probe while a probe runs.
      setTimeout(() => res.end('ok'), 30);
    } else {
      res.end('ok');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
}, 30_000);

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await redis?.stop();
});

function startFleet(prefix: string, quorum: number) {
  const transitions: Transition[] = [];
  /** `degraded` store statuses reported after the instance was ready, per instance (pid). */
  const degraded = new Map<number, number>();
  const ready = new Set<number>();
  const idle = new Set<number>();
  const logs: string[] = [];
  const workers: ChildProcess[] = [];
  const port = (server.address() as AddressInfo).port;
  for (let i = 0; i < INSTANCES; i++) {
    const child = fork(fileURLToPath(new URL('./fixtures/fleet-worker.ts', import.meta.url)), {
      execArgv: ['--import', 'tsx'],
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        REDIS_URL: redis.url,
        PREFIX: prefix,
        QUORUM: String(quorum),
        THRESHOLD: String(THRESHOLD),
        OPEN_MS: String(OPEN_MS),
        COMMAND_TIMEOUT: String(COMMAND_TIMEOUT),
        PROBES: String(PROBES),
        CLIENTS: String(CLIENTS),
        DEPENDENCY_URL: `http://127.0.0.1:${port}/quote`,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on(
      'message',
      (
        m: {
          type: string;
          pid: number;
          m?: string;
          level?: string;
          ready?: boolean;
          status?: string;
        } & Transition,
      ) => {
        if (m.type === 'ready') ready.add(m.pid);
        if (m.type === 'status' && m.status === 'degraded') {
          degraded.set(m.pid, (degraded.get(m.pid) ?? 0) + 1);
        }
        if (m.type === 'idle') idle.add(m.pid);
        if (m.type === 'transition') transitions.push(m);
        // What a store logged once its instance was ready (connecting may take more than one try).
        if (m.type === 'log' && m.m && m.ready) logs.push(`${m.level}: ${m.m}`);
      },
    );
    workers.push(child);
  }
  const send = (type: string) => workers.forEach((w) => w.send({ type }));
  const pause = async () => {
    idle.clear();
    send('pause');
    await eventually(() => expect(idle.size).toBe(INSTANCES), 10_000);
  };
  const stop = async () => {
    const exits = workers.map(
      (w) =>
        new Promise<number | null>((resolve) =>
          w.exitCode !== null ? resolve(w.exitCode) : w.once('exit', resolve),
        ),
    );
    for (const w of workers) if (w.connected) w.send({ type: 'stop' });
    return Promise.all(exits);
  };
  const start = async () => {
    await eventually(() => expect(ready.size).toBe(INSTANCES), 20_000);
    send('start');
  };
  /** How many times instances lost Redis (all of them, or the one `pid`). */
  const degradations = (pid?: number) =>
    pid === undefined
      ? [...degraded.values()].reduce((a, b) => a + b, 0)
      : (degraded.get(pid) ?? 0);
  return {
    workers,
    transitions,
    logs,
    degradations,
    start,
    pause,
    resume: () => send('resume'),
    stop,
  };
}

/** How many times each instance reported `to` for `reason`; the largest and the sum. */
function reported(transitions: readonly Transition[], to: string, reason: string) {
  const per = new Map<number, number>();
  for (const t of transitions) {
    if (t.to === to && t.reason === reason) per.set(t.pid, (per.get(t.pid) ?? 0) + 1);
  }
  const counts = [...per.values()];
  return { max: Math.max(0, ...counts), sum: counts.reduce((a, b) => a + b, 0) };
}

describe('a fleet of 4 processes sharing one breaker through Redis', () => {
  it('trips fleet-wide, sends no more than threshold + instances x in-flight failing calls, probes once, recovers everywhere', async () => {
    behaviour = { '*': 'ok' };
    received.length = 0;
    // quorum 1: any instance's failures count towards the fleet's trip (the bound below is exact).
    const fleet = startFleet(`fleet-a:${Date.now()}:`, 1);
    try {
      await fleet.start();
      await eventually(() => expect(received.length).toBeGreaterThan(50), 10_000);

      // The dependency goes down, cleanly: no healthy call is in flight when it does.
      await fleet.pause();
      behaviour = { '*': 'fail' };
      const down = received.length;
      fleet.resume();
      // Every instance opens (refuses): the fleet's trip reaches all of them.
      await eventually(() => {
        const opened = new Set(fleet.transitions.filter((t) => t.to === 'OPEN').map((t) => t.pid));
        expect(opened.size).toBe(INSTANCES);
      }, 10_000);
      // It comes back. Every call the dependency answered until now failed.
      behaviour = { '*': 'slow' };
      const recovered = received.length;
      const failing = recovered - down;
      const trip = fleet.transitions.findIndex((t) => t.to === 'OPEN');

      // After the open period, every instance closes.
      await eventually(() => {
        const closed = new Set(
          fleet.transitions
            .slice(trip)
            .filter((t) => t.to === 'CLOSED')
            .map((t) => t.pid),
        );
        expect(closed.size).toBe(INSTANCES);
      }, 15_000);
      // Until the first instance closed, every call that reached the dependency was a probe. (The
      // instances stamp transitions with the clock this process stamps calls with; a call made
      // after an instance closed lands after its stamp.)
      const firstClose = Math.min(
        ...fleet.transitions
          .slice(trip)
          .filter((t) => t.to === 'CLOSED')
          .map((t) => t.at),
      );
      const probes = received.slice(recovered).filter((r) => r.at < firstClose).length;
      // A probe that went before the dependency came back failed, and re-opened the circuit: it
      // is among the failing calls (seen only if this process was slower than the open period).
      const failedProbes = reported(fleet.transitions, 'OPEN', 'probe-failed');

      const degradations = fleet.degradations();
      if (degradations === 0) {
        // Shared throughout: the fleet's bounds, exactly.
        expect(failing).toBeGreaterThanOrEqual(THRESHOLD);
        expect(failing).toBeLessThanOrEqual(
          THRESHOLD + INSTANCES * CLIENTS + failedProbes.max * PROBES,
        );
        expect(probes).toBe(PROBES);
        expect(fleet.logs).toEqual([]);
      } else {
        // An instance lost Redis (slower than COMMAND_TIMEOUT): it decided alone meanwhile, as
        // documented. Each outage lets that instance fail up to threshold + its in-flight calls on
        // its own circuit, and send its own halfOpenMaxCalls probes.
        expect(failing).toBeGreaterThanOrEqual(THRESHOLD);
        expect(failing).toBeLessThanOrEqual(
          THRESHOLD +
            INSTANCES * CLIENTS +
            degradations * (THRESHOLD + CLIENTS) +
            failedProbes.sum * PROBES,
        );
        expect(probes).toBeGreaterThanOrEqual(1);
        expect(probes).toBeLessThanOrEqual(PROBES * (1 + degradations));
        // Each outage was logged, once, by the instance's store.
        expect(fleet.logs.filter((m) => m.startsWith('warn: '))).toHaveLength(degradations);
      }
    } finally {
      expect(await fleet.stop()).toEqual(Array(INSTANCES).fill(0));
    }
  }, 60_000);

  it('with the default quorum, one bad instance opens only its own circuit; the fleet stays closed and served', async () => {
    behaviour = { '*': 'ok' };
    received.length = 0;
    const prefix = `fleet-b:${Date.now()}:`;
    const fleet = startFleet(prefix, 2);
    try {
      await fleet.start();
      await eventually(() => expect(received.length).toBeGreaterThan(50), 10_000);
      const bad = fleet.workers[0]!.pid!;
      behaviour = { '*': 'ok', [String(bad)]: 'fail' };
      const since = fleet.transitions.length;
      await eventually(() => {
        expect(fleet.transitions.some((t) => t.pid === bad && t.to === 'OPEN')).toBe(true);
      }, 10_000);
      // The others keep calling the dependency, successfully, and never open.
      const count = received.length;
      await eventually(() => expect(received.length).toBeGreaterThan(count + 100), 10_000);
      expect(fleet.transitions.slice(since).filter((t) => t.pid !== bad)).toEqual([]);
      const client = new Redis(redis.url);
      try {
        expect(await client.hget(`${prefix}{payments}`, 's')).toBe('CLOSED');
      } finally {
        client.disconnect();
      }
      // The bad instance: its own circuit opened after threshold failures (plus those in flight),
      // and each time its open period ends it sends halfOpenMaxCalls probes, which fail.
      const badCalls = received.filter((r) => r.instance === String(bad) && r.answer === 'fail');
      const ownProbes = fleet.transitions.filter(
        (t) => t.pid === bad && t.to === 'HALF_OPEN',
      ).length;
      const lost = fleet.degradations(bad);
      expect(badCalls.length).toBeGreaterThanOrEqual(THRESHOLD);
      expect(badCalls.length).toBeLessThanOrEqual(
        THRESHOLD + CLIENTS + ownProbes * PROBES + lost * (THRESHOLD + CLIENTS),
      );
    } finally {
      expect(await fleet.stop()).toEqual(Array(INSTANCES).fill(0));
    }
  }, 60_000);
});
