/**
 * Four processes share one breaker through a real redis-server. The dependency is an HTTP server in
 * this process that counts every call it receives, and from which instance, so what the fleet sends
 * it is measured where it lands. Waits are on conditions with deadlines. The only time asserted is
 * the promise under test (every instance rejects within 100 ms of the trip), from the timestamps the
 * instances report.
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
        PROBES: '1',
        CLIENTS: String(CLIENTS),
        DEPENDENCY_URL: `http://127.0.0.1:${port}/quote`,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (m: { type: string; pid: number; m?: string } & Transition) => {
      if (m.type === 'ready') ready.add(m.pid);
      if (m.type === 'idle') idle.add(m.pid);
      if (m.type === 'transition') transitions.push(m);
      if (m.type === 'log' && m.m) logs.push(m.m);
    });
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
  return { workers, transitions, logs, start, pause, resume: () => send('resume'), stop };
}

describe('a fleet of 4 processes sharing one breaker through Redis', () => {
  it('trips fleet-wide promptly, sends no more than threshold + instances x in-flight failing calls, probes once, recovers everywhere', async () => {
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
      const down = Date.now();
      fleet.resume();
      await eventually(() => {
        const opened = new Set(fleet.transitions.filter((t) => t.to === 'OPEN').map((t) => t.pid));
        expect(opened.size).toBe(INSTANCES);
      }, 10_000);
      const opens = fleet.transitions.filter((t) => t.to === 'OPEN');
      const trip = Math.min(...opens.map((t) => t.at));
      for (const pid of new Set(opens.map((t) => t.pid))) {
        expect(opens.find((t) => t.pid === pid)!.at - trip).toBeLessThanOrEqual(100);
      }
      // Every failing call the dependency received before the open period ran out.
      const failing = received.filter(
        (r) => r.answer === 'fail' && r.at >= down && r.at < trip + OPEN_MS,
      );
      expect(failing.length).toBeGreaterThanOrEqual(THRESHOLD);
      expect(failing.length).toBeLessThanOrEqual(THRESHOLD + INSTANCES * CLIENTS);

      // It comes back: after the open period exactly one probe reaches it, then every instance closes.
      behaviour = { '*': 'slow' };
      const before = received.length;
      await eventually(() => {
        const closed = new Set(
          fleet.transitions.filter((t) => t.to === 'CLOSED' && t.at > trip).map((t) => t.pid),
        );
        expect(closed.size).toBe(INSTANCES);
      }, 15_000);
      const firstClose = Math.min(
        ...fleet.transitions.filter((t) => t.to === 'CLOSED' && t.at > trip).map((t) => t.at),
      );
      expect(received.slice(before).filter((r) => r.at < firstClose)).toHaveLength(1);
      expect(fleet.logs).toEqual([]);
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
      const bad = String(fleet.workers[0]!.pid);
      behaviour = { '*': 'ok', [bad]: 'fail' };
      const since = Date.now();
      await eventually(() => {
        expect(fleet.transitions.some((t) => String(t.pid) === bad && t.to === 'OPEN')).toBe(true);
      }, 10_000);
      // The others keep calling the dependency, successfully, and never open.
      const count = received.length;
      await eventually(() => expect(received.length).toBeGreaterThan(count + 100), 10_000);
      expect(fleet.transitions.filter((t) => String(t.pid) !== bad && t.at >= since)).toEqual([]);
      const client = new Redis(redis.url);
      try {
        expect(await client.hget(`${prefix}{payments}`, 's')).toBe('CLOSED');
      } finally {
        client.disconnect();
      }
      const badCalls = received.filter((r) => r.instance === bad && r.answer === 'fail');
      expect(badCalls.length).toBeLessThanOrEqual(THRESHOLD + CLIENTS);
    } finally {
      expect(await fleet.stop()).toEqual(Array(INSTANCES).fill(0));
    }
  }, 60_000);
});
