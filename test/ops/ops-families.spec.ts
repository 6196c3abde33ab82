/**
 * The ops endpoints and the event stream with a family of breakers, over real HTTP: a family is
 * one bounded summary in the list, one key is read and changed by `:family/:key` (or
 * `<family>:<key>`), an unknown key answers 404 and is never created, and a family's events share
 * one bounded ring.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { CircuitState } from '../../lib/index.js';
import type {
  CircuitBreakerDetails,
  CircuitBreakerFamilySummary,
  CircuitBreakerOpsEvent,
} from '../../lib/ops/index.js';
import {
  BREAKERS,
  type OpsApp,
  PLATFORMS,
  post,
  readStream,
  startOpsApp,
  TokenGuard,
} from './fixture/ops-app.js';

const fail = () => Promise.reject(new Error('down'));
const ok = () => Promise.resolve('ok');

const ROOT = {
  breakers: BREAKERS,
  families: { carrier: { failureThreshold: 1, openDuration: 60_000, maxKeys: 500 } },
};

async function json<T>(ops: OpsApp, path: string): Promise<{ status: number; body: T }> {
  const response = await ops.call(path);
  return { status: response.status, body: (await response.json()) as T };
}

/** Waits for `check` to hold (a hang guard, not a timing assertion). */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in 10 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(PLATFORMS)('ops endpoints with a family on %s', (platform) => {
  let ops: OpsApp | undefined;
  afterEach(async () => {
    await ops?.close();
    ops = undefined;
  });

  it('lists a family as one summary, reads and changes one key, and 404s an unknown key without creating it', async () => {
    ops = await startOpsApp(platform, { guards: [TokenGuard] }, ROOT);
    const carriers = ops.registry.family('carrier');
    await carriers.get('dhl').execute(ok);
    await carriers
      .get('ups')
      .execute(fail)
      .catch(() => undefined);

    const { body: list } = await json<{
      circuitBreakers: Record<string, CircuitBreakerDetails>;
      families: Record<string, CircuitBreakerFamilySummary>;
    }>(ops, '/actuator/circuitbreakers');
    expect(Object.keys(list.circuitBreakers)).toEqual(['inventory', 'payments']);
    expect(list.families.carrier).toEqual({
      keys: 2,
      maxKeys: 500,
      idleTimeout: 600_000,
      states: { CLOSED: 1, OPEN: 1, HALF_OPEN: 0, FORCED_OPEN: 0, DISABLED: 0 },
      notClosedKeys: 1,
      notClosed: [{ key: 'ups', state: 'OPEN' }],
      created: 2,
      evicted: { capacity: 0, idle: 0, deleted: 0 },
      overCap: 0,
    });

    const ups = await json<CircuitBreakerDetails>(ops, '/actuator/circuitbreakers/carrier/ups');
    expect(ups.status).toBe(200);
    expect(ups.body).toMatchObject({
      state: 'OPEN',
      failedCalls: 1,
      lastTransition: { from: 'CLOSED', to: 'OPEN', reason: 'consecutive-failures' },
    });
    const byName = await json<CircuitBreakerDetails>(ops, '/actuator/circuitbreakers/carrier:ups');
    expect(byName.body.state).toBe('OPEN');
    const family = await json<CircuitBreakerFamilySummary>(
      ops,
      '/actuator/circuitbreakers/carrier',
    );
    expect(family.body.keys).toBe(2);

    for (const path of [
      '/actuator/circuitbreakers/carrier/fedex',
      '/actuator/circuitbreakers/carrier:fedex',
      '/actuator/circuitbreakers/ship/dhl',
      '/actuator/circuitbreakerevents/carrier:fedex',
      '/actuator/circuitbreakerevents/carrier:fedex/ERROR',
    ]) {
      const response = await ops.call(path);
      expect([path, response.status]).toEqual([path, 404]);
      await response.arrayBuffer();
    }
    const refused = await post(ops, '/actuator/circuitbreakers/carrier/fedex', {
      updateState: 'FORCE_OPEN',
    });
    expect(refused.status).toBe(404);
    expect(carriers.has('fedex')).toBe(false);
    expect(carriers.size).toBe(2);

    const forced = await post(
      ops,
      '/actuator/circuitbreakers/carrier/dhl',
      { updateState: 'FORCE_OPEN' },
      { 'x-user': 'alice' },
    );
    expect(forced.status).toBe(200);
    expect(await forced.json()).toEqual({
      circuitBreakerName: 'carrier:dhl',
      currentState: 'FORCED_OPEN',
      message: 'Circuit breaker "carrier:dhl" forced open',
    });
    expect(carriers.get('dhl').state).toBe(CircuitState.ForcedOpen);
    const closed = await post(ops, '/actuator/circuitbreakers/carrier:ups', {
      updateState: 'CLOSE',
    });
    expect(closed.status).toBe(200);
    expect(carriers.get('ups').state).toBe(CircuitState.Closed);

    const { body: dhlEvents } = await json<{ circuitBreakerEvents: CircuitBreakerOpsEvent[] }>(
      ops,
      '/actuator/circuitbreakerevents/carrier:dhl',
    );
    expect(dhlEvents.circuitBreakerEvents.map((e) => [e.type, e.requestedBy])).toEqual([
      ['SUCCESS', undefined],
      ['FORCED_OPEN_STATE', 'alice'],
    ]);
    expect(dhlEvents.circuitBreakerEvents[1]).toMatchObject({
      circuitBreakerName: 'carrier:dhl',
      family: 'carrier',
      stateTransition: 'CLOSED_TO_FORCED_OPEN',
    });
    const { body: all } = await json<{ circuitBreakerEvents: CircuitBreakerOpsEvent[] }>(
      ops,
      '/actuator/circuitbreakerevents/carrier',
    );
    expect(all.circuitBreakerEvents.map((e) => `${e.circuitBreakerName} ${e.type}`)).toEqual([
      'carrier:dhl SUCCESS',
      'carrier:ups ERROR',
      'carrier:ups STATE_TRANSITION',
      'carrier:dhl FORCED_OPEN_STATE',
      'carrier:ups RESET',
    ]);
    const { body: errors } = await json<{ circuitBreakerEvents: CircuitBreakerOpsEvent[] }>(
      ops,
      '/actuator/circuitbreakerevents/carrier/error',
    );
    expect(errors.circuitBreakerEvents.map((e) => e.circuitBreakerName)).toEqual(['carrier:ups']);
  });
});

describe('ops endpoints with a large family', () => {
  let ops: OpsApp | undefined;
  afterEach(async () => {
    await ops?.close();
    ops = undefined;
  });

  it('keeps the list bounded: counts in full, at most 20 keys by name', async () => {
    ops = await startOpsApp('express', { guards: [TokenGuard] }, ROOT);
    const carriers = ops.registry.family('carrier');
    for (let i = 0; i < 300; i++) {
      await carriers
        .get(`k${String(i).padStart(3, '0')}`)
        .execute(i % 10 === 0 ? fail : ok)
        .catch(() => undefined);
    }
    carriers.peek('k001')!.isolate(); // peek: no use counted, k001 keeps its place
    const { body } = await json<{ families: Record<string, CircuitBreakerFamilySummary> }>(
      ops,
      '/actuator/circuitbreakers',
    );
    const summary = body.families.carrier!;
    expect(summary.keys).toBe(300);
    expect(summary.states).toMatchObject({ OPEN: 30, FORCED_OPEN: 1, CLOSED: 269 });
    expect(summary.notClosedKeys).toBe(31);
    expect(summary.notClosed).toHaveLength(20);
    expect(summary.notClosed[0]).toEqual({ key: 'k000', state: 'OPEN' });
    expect(summary.notClosed[1]).toEqual({ key: 'k001', state: 'FORCED_OPEN' });
  });

  it('keeps one ring per family (not per key), and forgets a released key’s last transition', async () => {
    ops = await startOpsApp('express', { guards: [TokenGuard], eventBufferSize: 5 }, ROOT);
    const carriers = ops.registry.family('carrier');
    for (let i = 0; i < 100; i++)
      await carriers
        .get(`k${i}`)
        .execute(fail)
        .catch(() => undefined);
    const { body } = await json<{ circuitBreakerEvents: CircuitBreakerOpsEvent[] }>(
      ops,
      '/actuator/circuitbreakerevents',
    );
    expect(body.circuitBreakerEvents.map((e) => `${e.circuitBreakerName} ${e.type}`)).toEqual([
      'carrier:k97 STATE_TRANSITION',
      'carrier:k98 ERROR',
      'carrier:k98 STATE_TRANSITION',
      'carrier:k99 ERROR',
      'carrier:k99 STATE_TRANSITION',
    ]);
    const before = await json<CircuitBreakerDetails>(ops, '/actuator/circuitbreakers/carrier/k3');
    expect(before.body.lastTransition).toMatchObject({ to: 'OPEN' });
    carriers.delete('k3');
    carriers.get('k3');
    const after = await json<CircuitBreakerDetails>(ops, '/actuator/circuitbreakers/carrier/k3');
    expect(after.body).toMatchObject({ state: 'CLOSED', lastTransition: null });
  });

  it('streams a family’s transitions and counts to a client of that family', async () => {
    ops = await startOpsApp('express', { guards: [TokenGuard], streamSummaryInterval: 100 }, ROOT);
    const carriers = ops.registry.family('carrier');
    await carriers.get('dhl').execute(ok);
    carriers.get('ups');
    const all = readStream(`${ops.url}/actuator/streamcircuitbreakerevents`);
    const family = readStream(`${ops.url}/actuator/streamcircuitbreakerevents/carrier`);
    const key = readStream(`${ops.url}/actuator/streamcircuitbreakerevents/carrier:ups`);
    try {
      expect(await family.status).toBe(200);
      expect(await key.status).toBe(200);
      await until(() => [all, family, key].every((r) => r.messages.length > 0));
      expect(family.messages[0]).toMatchObject({
        event: 'summary',
        data: {
          circuitBreakers: {},
          families: { carrier: { keys: 2, states: { CLOSED: 2, OPEN: 0 } } },
        },
      });
      expect(Object.keys((all.messages[0]!.data as { families: object }).families)).toEqual([
        'carrier',
      ]);
      await carriers
        .get('dhl')
        .execute(fail)
        .catch(() => undefined);
      await carriers
        .get('ups')
        .execute(fail)
        .catch(() => undefined);
      ops.registry.get('payments').isolate();
      const transitions = (r: typeof all) =>
        r.messages
          .filter((m) => m.event === 'transition')
          .map((m) => (m.data as CircuitBreakerOpsEvent).circuitBreakerName);
      await until(() => transitions(all).length === 3);
      await until(() => transitions(family).length === 2 && transitions(key).length === 1);
      expect(transitions(family)).toEqual(['carrier:dhl', 'carrier:ups']);
      expect(transitions(key)).toEqual(['carrier:ups']);
      await until(() =>
        key.messages.some(
          (m) =>
            m.event === 'summary' &&
            (m.data as { families: { carrier?: { states: { OPEN: number } } } }).families.carrier
              ?.states.OPEN === 2,
        ),
      );
      const unknown = await ops.call('/actuator/streamcircuitbreakerevents/carrier:fedex');
      expect(unknown.status).toBe(404);
      await unknown.arrayBuffer();
      expect(carriers.has('fedex')).toBe(false);
    } finally {
      for (const r of [all, family, key]) r.close();
    }
  });
});
