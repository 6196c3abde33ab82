/**
 * The ops endpoints over real HTTP (fetch on a loopback port), on Express and on Fastify: the
 * guard on every route, resilience4j's payloads with the numbers real calls produce, 404 for
 * unknown names (no breaker created), manual state changes, and the bounded event rings.
 */
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from '@jest/globals';
import { CircuitBreakerModule, CircuitState } from '../../lib/index.js';
import { CircuitBreakerOpsModule } from '../../lib/ops/index.js';
import { adapterFor } from '../e2e/fixture/app.factory.js';
import type { CircuitBreakerDetails, CircuitBreakerOpsEvent } from '../../lib/ops/index.js';
import { type OpsApp, PLATFORMS, post, startOpsApp, TokenGuard } from './fixture/ops-app.js';

const fail = () => Promise.reject(new Error('down'));
const ok = () => Promise.resolve('ok');

/** Every route of the module with the dashboard on, as [method, path]. */
const ROUTES: Array<[string, string]> = [
  ['GET', '/actuator/circuitbreakers'],
  ['GET', '/actuator/circuitbreakers/payments'],
  ['POST', '/actuator/circuitbreakers/payments'],
  ['GET', '/actuator/circuitbreakerevents'],
  ['GET', '/actuator/circuitbreakerevents/payments'],
  ['GET', '/actuator/circuitbreakerevents/payments/ERROR'],
  ['GET', '/actuator/streamcircuitbreakerevents'],
  ['GET', '/actuator/streamcircuitbreakerevents/payments'],
  ['GET', '/actuator/circuitbreakers-dashboard'],
];

describe.each(PLATFORMS)('ops endpoints on %s', (platform) => {
  let ops: OpsApp | undefined;
  afterEach(async () => {
    await ops?.close();
    ops = undefined;
  });

  it("answers 403 on every route without the guard's consent, and nothing changes", async () => {
    ops = await startOpsApp(platform, { guards: [TokenGuard], dashboard: true });
    for (const [method, path] of ROUTES) {
      const response = await fetch(`${ops.url}${path}`, {
        method,
        headers: { 'x-ops-token': 'wrong', 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: JSON.stringify({ updateState: 'FORCE_OPEN' }) } : {}),
      });
      expect([method, path, response.status]).toEqual([method, path, 403]);
      await response.arrayBuffer();
    }
    expect(ops.registry.get('payments').state).toBe(CircuitState.Closed);
    // And with the token, the same routes answer.
    const allowed = await ops.call('/actuator/circuitbreakers-dashboard');
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await allowed.text()).toContain('<div id="cards">');
  });

  it('lists every breaker and reads one with the counts real calls produced', async () => {
    ops = await startOpsApp(platform);
    const payments = ops.registry.get('payments');
    await payments.execute(ok);
    await payments.execute(ok);
    await expect(payments.execute(fail)).rejects.toThrow('down');
    const inventory = ops.registry.get('inventory');
    for (const fn of [ok, fail, ok, fail, fail]) await inventory.execute(fn).catch(() => undefined);
    // inventory: 3 failures of 5 calls in its window (minimumCalls 4): 60 %, and not yet open.

    const list = (await (await ops.call('/actuator/circuitbreakers')).json()) as {
      circuitBreakers: Record<string, CircuitBreakerDetails>;
    };
    expect(Object.keys(list.circuitBreakers)).toEqual(['inventory', 'payments']);
    expect(list.circuitBreakers.payments).toMatchObject({
      state: 'CLOSED',
      policy: 'consecutive',
      bufferedCalls: 3,
      failedCalls: 1,
      successfulCalls: 2,
      notPermittedCalls: 0,
      // consecutive has no minimum beyond one call, and no rate threshold
      failureRate: (1 / 3) * 100,
      failureRateThreshold: -1,
      slowCallRateThreshold: -1,
      consecutiveFailures: 1,
      failureThreshold: 3,
      lastTransition: null,
      store: 'local',
    });
    expect(list.circuitBreakers.inventory).toMatchObject({
      state: 'OPEN',
      policy: 'count-window',
      failureRateThreshold: 50,
    });

    // Trip payments and get refused twice.
    // Two more failures make three in a row (it opens); then two calls are refused.
    for (let i = 0; i < 2; i++) await payments.execute(fail).catch(() => undefined);
    await payments.execute(ok).catch(() => undefined);
    await payments.execute(ok).catch(() => undefined);
    const one = (await (
      await ops.call('/actuator/circuitbreakers/payments')
    ).json()) as CircuitBreakerDetails;
    expect(one).toMatchObject({
      state: 'OPEN',
      notPermittedCalls: 2,
      lastTransition: { from: 'CLOSED', to: 'OPEN', reason: 'consecutive-failures' },
    });
    expect(one.retryAfterMs).toBeGreaterThan(0);
    expect(one.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(Date.parse(one.lastTransition!.time)).not.toBeNaN();
  });

  it('reports -1 rates until the window holds minimumCalls calls', async () => {
    ops = await startOpsApp(platform);
    const inventory = ops.registry.get('inventory');
    await inventory.execute(fail).catch(() => undefined);
    await inventory.execute(ok);
    const one = (await (
      await ops.call('/actuator/circuitbreakers/inventory')
    ).json()) as CircuitBreakerDetails;
    expect(one).toMatchObject({
      failureRate: -1,
      slowCallRate: -1,
      bufferedCalls: 2,
      failedCalls: 1,
      successfulCalls: 1,
    });
  });

  it('answers 404 for an unknown name on every route that takes one, and creates no breaker', async () => {
    // autoCreate: a registry.get() would create the breaker; the endpoints must not.
    ops = await startOpsApp(platform, undefined, { autoCreate: true, breakers: { payments: {} } });
    const paths = [
      '/actuator/circuitbreakers/nope',
      '/actuator/circuitbreakerevents/nope',
      '/actuator/circuitbreakerevents/nope/ERROR',
      '/actuator/streamcircuitbreakerevents/nope',
    ];
    for (const path of paths) {
      const response = await ops.call(path);
      expect([path, response.status]).toEqual([path, 404]);
      expect(await response.json()).toMatchObject({
        statusCode: 404,
        message: expect.stringContaining('"nope"'),
      });
    }
    const posted = await post(ops, '/actuator/circuitbreakers/nope', { updateState: 'FORCE_OPEN' });
    expect(posted.status).toBe(404);
    await posted.arrayBuffer();
    expect(ops.registry.has('nope')).toBe(false);
    expect(ops.registry.names()).toEqual(['payments']);
  });

  it('forces open, closes and disables a breaker, answering its new state, and records who asked', async () => {
    ops = await startOpsApp(platform);
    const logged: string[] = [];
    const record = (message: unknown, context?: unknown) => {
      if (context === 'CircuitBreakerOps') logged.push(String(message));
    };
    ops.app.useLogger({ log: record, error: record, warn: record });
    const payments = ops.registry.get('payments');
    const steps: Array<[string, string, string]> = [
      ['FORCE_OPEN', 'FORCED_OPEN', 'FORCED_OPEN_STATE'],
      ['CLOSE', 'CLOSED', 'RESET'],
      ['DISABLE', 'DISABLED', 'DISABLED_STATE'],
      ['CLOSE', 'CLOSED', 'RESET'],
    ];
    for (const [updateState, state] of steps) {
      const response = await post(
        ops,
        '/actuator/circuitbreakers/payments',
        { updateState },
        { 'x-user': 'alice' },
      );
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        circuitBreakerName: 'payments',
        currentState: state,
        message: expect.stringContaining('payments'),
      });
      expect(payments.state).toBe(state);
    }
    expect(logged).toEqual([
      'Circuit breaker "payments" forced open (FORCE_OPEN, requested by alice); now FORCED_OPEN',
      'Circuit breaker "payments" closed (CLOSE, requested by alice); now CLOSED',
      'Circuit breaker "payments" disabled (DISABLE, requested by alice); now DISABLED',
      'Circuit breaker "payments" closed (CLOSE, requested by alice); now CLOSED',
    ]);
    // Without a user, the client's address is recorded.
    await post(ops, '/actuator/circuitbreakers/payments', { updateState: 'FORCE_OPEN' });
    const { circuitBreakerEvents } = (await (
      await ops.call('/actuator/circuitbreakerevents/payments')
    ).json()) as {
      circuitBreakerEvents: CircuitBreakerOpsEvent[];
    };
    expect(circuitBreakerEvents.map((e) => [e.type, e.stateTransition, e.requestedBy])).toEqual([
      ['FORCED_OPEN_STATE', 'CLOSED_TO_FORCED_OPEN', 'alice'],
      ['RESET', 'FORCED_OPEN_TO_CLOSED', 'alice'],
      ['DISABLED_STATE', 'CLOSED_TO_DISABLED', 'alice'],
      ['RESET', 'DISABLED_TO_CLOSED', 'alice'],
      ['FORCED_OPEN_STATE', 'CLOSED_TO_FORCED_OPEN', expect.stringMatching(/127\.0\.0\.1/)],
    ]);
    // Asking for the state it is in changes nothing, and is still recorded.
    await post(
      ops,
      '/actuator/circuitbreakers/payments',
      { updateState: 'FORCE_OPEN' },
      { 'x-user': 'bob' },
    );
    const again = (await (
      await ops.call('/actuator/circuitbreakerevents/payments/forced_open_state')
    ).json()) as {
      circuitBreakerEvents: CircuitBreakerOpsEvent[];
    };
    expect(again.circuitBreakerEvents.at(-1)).toMatchObject({
      requestedBy: 'bob',
      type: 'FORCED_OPEN_STATE',
    });
    expect(again.circuitBreakerEvents.at(-1)!.stateTransition).toBeUndefined();
  });

  it('answers 400 for any other body, and leaves the breaker alone', async () => {
    ops = await startOpsApp(platform);
    const bodies: unknown[] = [
      {},
      { updateState: 'OPEN' },
      { updateState: 'force_open' },
      { updateState: 1 },
      [],
      'FORCE_OPEN',
      null,
      { updateState: 'toString' },
    ];
    for (const body of bodies) {
      const response = await post(ops, '/actuator/circuitbreakers/payments', body);
      expect([body, response.status]).toEqual([body, 400]);
      await response.arrayBuffer();
    }
    const broken = await ops.call('/actuator/circuitbreakers/payments', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"updateState": "FORCE_',
    });
    expect(broken.status).toBe(400);
    await broken.arrayBuffer();
    expect(ops.registry.get('payments').state).toBe(CircuitState.Closed);
    const events = (await (await ops.call('/actuator/circuitbreakerevents/payments')).json()) as {
      circuitBreakerEvents: unknown[];
    };
    expect(events.circuitBreakerEvents).toEqual([]);
  });

  it('keeps the last eventBufferSize events per breaker, oldest first, with resilience4j names', async () => {
    ops = await startOpsApp(platform, { guards: [TokenGuard], eventBufferSize: 5 });
    const payments = ops.registry.get('payments');
    const inventory = ops.registry.get('inventory');
    await inventory.execute(ok);
    for (let i = 0; i < 4; i++) await payments.execute(ok);
    await payments.execute(() => Promise.reject(new TypeError('boom'))).catch(() => undefined);
    await payments.execute(fail).catch(() => undefined);
    await payments.execute(fail).catch(() => undefined); // the third in a row: opens
    await payments.execute(ok).catch(() => undefined); // refused
    const read = async (path: string) =>
      ((await (await ops!.call(path)).json()) as { circuitBreakerEvents: CircuitBreakerOpsEvent[] })
        .circuitBreakerEvents;
    const mine = await read('/actuator/circuitbreakerevents/payments');
    // Nine events for payments (4 successes, 3 failures, the transition, a refusal): the last 5.
    expect(mine.map((e) => e.type)).toEqual([
      'ERROR',
      'ERROR',
      'ERROR',
      'STATE_TRANSITION',
      'NOT_PERMITTED',
    ]);
    expect(mine[0]).toMatchObject({
      circuitBreakerName: 'payments',
      errorMessage: 'TypeError: boom',
    });
    expect(mine[1]!.errorMessage).toBe('Error: down');
    expect(mine[3]).toMatchObject({
      type: 'STATE_TRANSITION',
      stateTransition: 'CLOSED_TO_OPEN',
      reason: 'consecutive-failures',
    });
    expect(typeof mine[0]!.durationInMs).toBe('number');
    expect(mine[4]!.errorMessage).toMatch(/^CircuitOpenError: /);
    const times = mine.map((e) => Date.parse(e.creationTime));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // All breakers, merged oldest first: inventory's one event came before payments' five.
    const all = await read('/actuator/circuitbreakerevents');
    expect(all.map((e) => e.circuitBreakerName)).toEqual([
      'inventory',
      ...mine.map(() => 'payments'),
    ]);
    expect(await read('/actuator/circuitbreakerevents/payments/not_permitted')).toHaveLength(1);
    const unknownType = await ops.call('/actuator/circuitbreakerevents/payments/EXPLODED');
    expect(unknownType.status).toBe(400);
    await unknownType.arrayBuffer();
  });

  it('serves the routes under a configured path, and the dashboard only when asked', async () => {
    ops = await startOpsApp(platform, { guards: [TokenGuard], path: '/ops/breakers/' });
    const list = await ops.call('/ops/breakers/circuitbreakers');
    expect(list.status).toBe(200);
    expect(
      Object.keys(((await list.json()) as { circuitBreakers: object }).circuitBreakers),
    ).toEqual(['inventory', 'payments']);
    for (const path of ['/actuator/circuitbreakers', '/ops/breakers/circuitbreakers-dashboard']) {
      const response = await ops.call(path);
      expect([path, response.status]).toEqual([path, 404]);
      await response.arrayBuffer();
    }
  });

  it('gives the dashboard page its base path, a global prefix included', async () => {
    @Module({
      imports: [
        CircuitBreakerModule.forRoot(),
        CircuitBreakerOpsModule.forRoot({ allowUnguarded: true, dashboard: true, path: 'ops' }),
      ],
    })
    class PrefixedModule {}
    const moduleRef = await Test.createTestingModule({ imports: [PrefixedModule] }).compile();
    const app = moduleRef.createNestApplication(adapterFor(platform), { logger: false });
    app.setGlobalPrefix('api');
    await app.listen(0, '127.0.0.1');
    try {
      const { port } = app.getHttpServer().address() as { port: number };
      const page = await fetch(`http://127.0.0.1:${port}/api/ops/circuitbreakers-dashboard?x=1`);
      expect(page.status).toBe(200);
      // The page is given the path its routes are under (global prefix included).
      expect(await page.text()).toContain('/api/ops');
    } finally {
      await app.close();
    }
  });
});
