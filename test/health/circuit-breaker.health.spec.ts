import { describe, expect, it } from '@jest/globals';
import { HealthIndicatorService } from '@nestjs/terminus';
import { CircuitBreakerHealthIndicator } from '../../lib/health/index.js';
import {
  createLocalCircuit,
  type CircuitStore,
  CircuitBreakerRegistry,
  ManualClock,
} from '../../lib/index.js';

function setup() {
  const clock = new ManualClock();
  const registry = new CircuitBreakerRegistry({
    defaults: { clock, failureThreshold: 1, openDuration: 1_000 },
    breakers: { db: {}, api: {}, optional: { health: false } },
  });
  registry.initialise();
  const indicator = new CircuitBreakerHealthIndicator(new HealthIndicatorService(), registry);
  const trip = async (name: string) =>
    registry
      .get(name)
      .execute(async () => {
        throw new Error('down');
      })
      .catch(() => undefined);
  return { clock, registry, indicator, trip };
}

describe('CircuitBreakerHealthIndicator', () => {
  it('is up while every checked breaker is closed or disabled, listing each one', () => {
    const { registry, indicator } = setup();
    registry.get('api').disable();
    expect(indicator.isHealthy('circuits')).toEqual({
      circuits: {
        status: 'up',
        breakers: {
          api: { state: 'DISABLED', failureRate: 0 },
          db: { state: 'CLOSED', failureRate: 0 },
        },
      },
    });
  });

  it('is down when a breaker is open or held open, naming it with its retry time', async () => {
    const { registry, indicator, trip, clock } = setup();
    await trip('db');
    clock.advance(400);
    registry.get('api').isolate();
    const result = indicator.isHealthy('circuits');
    expect(result.circuits).toEqual({
      status: 'down',
      open: ['api', 'db'],
      breakers: {
        api: { state: 'FORCED_OPEN', failureRate: 0 },
        db: { state: 'OPEN', failureRate: 1, retryAfter: 600 },
      },
    });
  });

  it('reports a half-open breaker as degraded by default, or as told', async () => {
    const { indicator, trip, clock } = setup();
    await trip('db');
    clock.advance(1_000);
    expect(indicator.isHealthy('c').c.status).toBe('degraded');
    expect(indicator.isHealthy('c', { halfOpen: 'up' }).c.status).toBe('up');
    expect(indicator.isHealthy('c', { halfOpen: 'down' }).c.status).toBe('down');
    expect(indicator.isHealthy('c').c.breakers.db).toEqual({
      state: 'HALF_OPEN',
      failureRate: 1,
      retryAfter: 0,
    });
  });

  it('leaves out breakers declared with health: false unless they are listed', () => {
    const { registry, indicator } = setup();
    registry.get('optional').isolate();
    expect(indicator.isHealthy('c').c.status).toBe('up');
    const listed = indicator.isHealthy('c', { breakers: ['optional'] });
    expect(listed.c.status).toBe('down');
    expect(Object.keys(listed.c.breakers)).toEqual(['optional']);
  });

  it('is down for a listed breaker that does not exist, suggesting the closest name', () => {
    const { indicator } = setup();
    const result = indicator.isHealthy('c', { breakers: ['dbb'] });
    expect(result.c).toMatchObject({ status: 'down', unknown: ['dbb (did you mean "db"?)'] });
  });
});

describe('CircuitBreakerHealthIndicator and shared stores', () => {
  /** A store whose circuits are in memory but which reports the status it is told to. */
  function storeReporting(status: { value: 'shared' | 'degraded' }): CircuitStore {
    return {
      bind(binding) {
        const circuit = createLocalCircuit(binding);
        return Object.assign(circuit, { storeStatus: () => status.value });
      },
    };
  }

  it('a breaker whose shared store is unreachable makes the check degraded (HTTP 200), and says so', () => {
    const status = { value: 'shared' as 'shared' | 'degraded' };
    const registry = new CircuitBreakerRegistry({
      defaults: { clock: new ManualClock() },
      breakers: { ledger: { store: storeReporting(status) }, db: {} },
    });
    registry.initialise();
    const indicator = new CircuitBreakerHealthIndicator(new HealthIndicatorService(), registry);
    expect(indicator.isHealthy('c').c).toEqual({
      status: 'up',
      breakers: {
        db: { state: 'CLOSED', failureRate: 0 },
        ledger: { state: 'CLOSED', failureRate: 0, store: 'shared' },
      },
    });
    status.value = 'degraded';
    expect(indicator.isHealthy('c').c).toEqual({
      status: 'degraded',
      storeDegraded: ['ledger'],
      breakers: {
        db: { state: 'CLOSED', failureRate: 0 },
        ledger: { state: 'CLOSED', failureRate: 0, store: 'degraded' },
      },
    });
  });
});
