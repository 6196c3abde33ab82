/**
 * A forced state is fleet-wide through a RedisStore: two processes (one on Express, one on
 * Fastify) share breaker `payments` on a real redis-server started here. FORCE_OPEN posted to one
 * is seen as FORCED_OPEN through the other's GET, and CLOSE posted to the other closes both.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CircuitBreakerDetails, CircuitBreakerOpsEvent } from '../../lib/ops/index.js';
import { eventually } from '../core/helpers/eventually.js';
import { startRedis, type TestRedis } from '../redis/helpers/redis-server.js';

let redis: TestRedis;
let script: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const config = fileURLToPath(new URL('./fixture/tsconfig.fleet.json', import.meta.url));
  execFileSync(process.execPath, [tsc, '-p', config], { stdio: 'inherit' });
  script = fileURLToPath(
    new URL('../../dist-e2e/ops/test/ops/fixture/fleet-instance.js', import.meta.url),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          if (child.connected) child.send({ type: 'stop' });
          else child.kill('SIGKILL');
        }),
    ),
  );
  await redis?.stop();
});

/** Starts one instance on `platform`; resolves with its URL once its breaker shares its state. */
function startInstance(platform: string, prefix: string): Promise<string> {
  const child = fork(script, [platform], {
    env: { ...process.env, NODE_OPTIONS: '', REDIS_URL: redis.url, PREFIX: prefix },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.on('message', (m: { type: string; url: string }) => {
      if (m.type === 'ready') resolve(m.url);
    });
    child.once('exit', (code) => reject(new Error(`instance on ${platform} exited with ${code}`)));
  });
}

const details = async (url: string) =>
  (await (await fetch(`${url}/actuator/circuitbreakers/payments`)).json()) as CircuitBreakerDetails;

const update = async (url: string, updateState: string) => {
  const response = await fetch(`${url}/actuator/circuitbreakers/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ updateState }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { currentState: string };
};

describe('ops endpoints on a fleet sharing a breaker through Redis', () => {
  it('forces a breaker open on every instance from one, and closes it everywhere from the other', async () => {
    const prefix = `ops-fleet:${Date.now()}:`;
    const [a, b] = await Promise.all([
      startInstance('express', prefix),
      startInstance('fastify', prefix),
    ]);
    expect((await details(a)).store).toBe('shared');
    expect((await details(b)).state).toBe('CLOSED');

    expect(await update(a, 'FORCE_OPEN')).toMatchObject({ currentState: 'FORCED_OPEN' });
    await eventually(async () => expect((await details(b)).state).toBe('FORCED_OPEN'), 15_000);
    expect((await details(b)).lastTransition).toMatchObject({
      to: 'FORCED_OPEN',
      reason: 'isolate',
    });
    // The other instance records the fleet's manual transition as its own event type.
    const { circuitBreakerEvents } = (await (
      await fetch(`${b}/actuator/circuitbreakerevents/payments`)
    ).json()) as { circuitBreakerEvents: CircuitBreakerOpsEvent[] };
    expect(circuitBreakerEvents.map((e) => [e.type, e.stateTransition])).toEqual([
      ['FORCED_OPEN_STATE', 'CLOSED_TO_FORCED_OPEN'],
    ]);

    expect(await update(b, 'CLOSE')).toMatchObject({ currentState: 'CLOSED' });
    await eventually(async () => expect((await details(a)).state).toBe('CLOSED'), 15_000);
    expect((await details(b)).state).toBe('CLOSED');
    // B answered once the fleet had closed, and its transition carries who asked.
    const after = (await (await fetch(`${b}/actuator/circuitbreakerevents/payments`)).json()) as {
      circuitBreakerEvents: CircuitBreakerOpsEvent[];
    };
    expect(after.circuitBreakerEvents.at(-1)).toMatchObject({
      type: 'RESET',
      stateTransition: 'FORCED_OPEN_TO_CLOSED',
      requestedBy: expect.stringContaining('127.0.0.1'),
    });
  }, 60_000);
});
