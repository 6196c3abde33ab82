import { describe, expect, it } from '@jest/globals';
import { HealthIndicatorService } from '@nestjs/terminus';
import { CircuitBreakerHealthIndicator } from '../../lib/health/index.js';
import { CircuitBreakerRegistry, ManualClock } from '../../lib/index.js';

function setup() {
  const clock = new ManualClock();
  const registry = new CircuitBreakerRegistry({
    defaults: { clock, failureThreshold: 1, openDuration: 1_000 },
    breakers: { db: {} },
    families: { carrier: {}, tenant: { health: false } },
  });
  registry.initialise();
  const indicator = new CircuitBreakerHealthIndicator(new HealthIndicatorService(), registry);
  const trip = (family: string, key: string) =>
    registry
      .family(family)
      .get(key)
      .execute(async () => {
        throw new Error('down');
      })
      .catch(() => undefined);
  return { clock, registry, indicator, trip };
}

describe('CircuitBreakerHealthIndicator: families', () => {
  it('reports a family as one entry, with its keys by state; healthy keys keep it up', () => {
    const { registry, indicator } = setup();
    for (let i = 0; i < 50; i++) registry.family('carrier').get(`k${i}`);
    expect(indicator.isHealthy('circuits')).toEqual({
      circuits: {
        status: 'up',
        breakers: { db: { state: 'CLOSED', failureRate: 0 } },
        families: {
          carrier: {
            keys: 50,
            states: { CLOSED: 50, OPEN: 0, HALF_OPEN: 0, FORCED_OPEN: 0, DISABLED: 0 },
            openKeys: 0,
          },
        },
      },
    });
  });

  it('open keys make it degraded by default, listing at most 10 of them and counting all', async () => {
    const { registry, indicator, trip } = setup();
    for (let i = 0; i < 12; i++) await trip('carrier', `k${i}`);
    registry.family('carrier').get('fine');
    const result = indicator.isHealthy('circuits').circuits;
    expect(result.status).toBe('degraded');
    expect(result.families.carrier).toEqual({
      keys: 13,
      states: { CLOSED: 1, OPEN: 12, HALF_OPEN: 0, FORCED_OPEN: 0, DISABLED: 0 },
      openKeys: 12,
      open: ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9'],
    });
    expect(indicator.isHealthy('c', { familyOpen: 'down' }).c.status).toBe('down');
    expect(indicator.isHealthy('c', { familyOpen: 'up' }).c.status).toBe('up');
  });

  it('half-open keys count as halfOpen says, at most as familyOpen', async () => {
    const { clock, indicator, trip } = setup();
    await trip('carrier', 'dhl');
    clock.advance(1_000);
    expect(indicator.isHealthy('c').c.status).toBe('degraded');
    expect(indicator.isHealthy('c', { halfOpen: 'up' }).c.status).toBe('up');
    expect(indicator.isHealthy('c', { halfOpen: 'down' }).c.status).toBe('degraded');
    expect(indicator.isHealthy('c', { halfOpen: 'down', familyOpen: 'down' }).c.status).toBe(
      'down',
    );
  });

  it('skips families declared with health: false unless listed; an unknown family is down', async () => {
    const { indicator, trip } = setup();
    await trip('tenant', 'acme');
    expect(indicator.isHealthy('c').c.status).toBe('up');
    const listed = indicator.isHealthy('c', { families: ['tenant'], familyOpen: 'down' }).c;
    expect(listed.status).toBe('down');
    expect(listed.families.tenant.open).toEqual(['acme']);
    const unknown = indicator.isHealthy('c', { families: ['carier'] }).c;
    expect(unknown.status).toBe('down');
    expect(unknown.unknown).toEqual(['carier (did you mean "carrier"?)']);
  });

  it('rejects an invalid familyOpen', () => {
    const { indicator } = setup();
    expect(() => indicator.isHealthy('c', { familyOpen: 'sideways' as never })).toThrow(
      'familyOpen must be "up", "degraded" or "down"',
    );
  });

  it('reading health creates no key and counts no use', () => {
    const { registry, indicator } = setup();
    registry.family('carrier').get('a');
    registry.family('carrier').get('b');
    indicator.isHealthy('c');
    expect(registry.family('carrier').keys()).toEqual(['a', 'b']);
  });
});
