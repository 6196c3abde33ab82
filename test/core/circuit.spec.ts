/**
 * The parts of `Circuit` that stores use and breakers do not reach on their own: `trip` (a shared
 * store tells a breaker that it alone is failing) and `adopt` (a store hands over the fleet's last
 * known state when it loses its server). README, "Many instances": "an instance that loses Redis
 * keeps the state the fleet last told it".
 */
import { describe, expect, it } from '@jest/globals';
import {
  Circuit,
  type CircuitTransition,
  ManualClock,
  resolveBreakerOptions,
} from '../../lib/core/internal.js';

function circuit(start = 1_000): {
  c: Circuit;
  clock: ManualClock;
  log: CircuitTransition[];
} {
  const clock = new ManualClock(start);
  const log: CircuitTransition[] = [];
  const options = resolveBreakerOptions({ name: 'c', openDuration: 500, failureThreshold: 3 });
  const c = new Circuit({
    config: options.circuit,
    clock,
    random: () => 0.5,
    initialState: undefined,
    onTransition: (t) => log.push(t),
  });
  return { c, clock, log };
}

describe('Circuit.trip', () => {
  it('opens a CLOSED circuit for the reason given, with the configured period', () => {
    const { c, log } = circuit();
    c.trip('failure-rate');
    expect(log).toEqual([
      expect.objectContaining({
        from: 'CLOSED',
        to: 'OPEN',
        reason: 'failure-rate',
        openDuration: 500,
        at: 1_000,
      }),
    ]);
    expect(c.snapshot()).toMatchObject({ state: 'OPEN', openedAt: 1_000, openUntil: 1_500 });
  });

  it('does nothing unless CLOSED, or once unbound', () => {
    const { c, log } = circuit();
    c.transition('FORCED_OPEN', 'isolate');
    c.trip('failure-rate');
    expect(c.currentState).toBe('FORCED_OPEN');
    const other = circuit();
    other.c.unbind();
    other.c.trip('failure-rate');
    expect(other.c.currentState).toBe('CLOSED');
    expect(other.log).toEqual([]);
    expect(log).toHaveLength(1);
  });
});

describe('Circuit.adopt', () => {
  it('OPEN lasts the remaining period given; a negative remainder is an elapsed period', () => {
    const { c, clock, log } = circuit();
    c.adopt('OPEN', 300, 2);
    expect(log.at(-1)).toMatchObject({ to: 'OPEN', reason: 'remote', openDuration: 300 });
    expect(c.snapshot()).toMatchObject({ openUntil: 1_300, failedProbes: 2 });
    clock.advance(299);
    expect(c.state()).toBe('OPEN');
    clock.advance(1);
    expect(c.state()).toBe('HALF_OPEN');
    const d = circuit();
    d.c.adopt('OPEN', -50, 0);
    expect(d.log.at(-1)).toMatchObject({ to: 'OPEN', openDuration: 0 });
    expect(d.c.state()).toBe('HALF_OPEN');
  });

  it('HALF_OPEN continues as OPEN with its period over: the next call probes', () => {
    const { c, log } = circuit();
    c.adopt('HALF_OPEN', 999, 1);
    expect(log.at(-1)).toMatchObject({ to: 'OPEN', openDuration: 0 });
    expect(c.state()).toBe('HALF_OPEN');
    expect(c.tryAcquire()).toBeGreaterThanOrEqual(2 ** 52);
  });

  it('CLOSED closes and forgets the failures; FORCED_OPEN and DISABLED are taken as they are', () => {
    const { c, log } = circuit();
    c.failure(c.tryAcquire(), NaN);
    c.failure(c.tryAcquire(), NaN);
    c.adopt('OPEN', 100, 0);
    c.adopt('CLOSED', 0, 0);
    expect(log.map((t) => `${t.to}:${t.reason}`)).toEqual(['OPEN:remote', 'CLOSED:remote']);
    expect(c.view().consecutiveFailures).toBe(0);
    c.failure(c.tryAcquire(), NaN);
    c.failure(c.tryAcquire(), NaN);
    expect(c.currentState).toBe('CLOSED'); // 2 of 3: the earlier two were forgotten
    c.adopt('FORCED_OPEN', 0, 0);
    expect(c.currentState).toBe('FORCED_OPEN');
    c.adopt('DISABLED', 0, 0);
    expect(log.at(-1)).toMatchObject({ from: 'FORCED_OPEN', to: 'DISABLED', reason: 'remote' });
  });

  it('adopting the current state, or adopting once unbound, changes nothing', () => {
    const { c, log } = circuit();
    const generation = c.currentGeneration;
    c.adopt('CLOSED', 0, 0);
    c.unbind();
    c.adopt('OPEN', 100, 0);
    expect(log).toEqual([]);
    expect(c.currentGeneration).toBe(generation);
  });
});

describe('an unbound circuit', () => {
  it('takes no manual transition and frees no probe slot', () => {
    const { c, clock, log } = circuit();
    c.trip('consecutive-failures');
    clock.advance(500);
    const ticket = c.tryAcquire();
    expect(c.view().probesInFlight).toBe(1);
    c.unbind();
    c.release(ticket);
    c.transition('CLOSED', 'reset');
    expect(c.view().probesInFlight).toBe(1);
    expect(log.map((t) => t.to)).toEqual(['OPEN', 'HALF_OPEN']);
  });
});

describe('Circuit.view', () => {
  it('reports openedAt only while OPEN', () => {
    const { c, clock } = circuit();
    expect(c.view().openedAt).toBeUndefined();
    c.trip('consecutive-failures');
    expect(c.view().openedAt).toBe(1_000);
    clock.advance(500);
    expect(c.view()).toMatchObject({ state: 'HALF_OPEN', openedAt: undefined });
  });
});

describe('retryAfter and transition events', () => {
  it('retryAfter: undefined while CLOSED, the rest of the period while OPEN, 0 while HALF_OPEN', () => {
    const { c, clock } = circuit();
    expect(c.retryAfter()).toBeUndefined();
    c.trip('consecutive-failures');
    clock.advance(200);
    expect(c.retryAfter()).toBe(300);
    clock.advance(300);
    expect(c.state()).toBe('HALF_OPEN');
    expect(c.retryAfter()).toBe(0);
    expect(c.view().retryAfter).toBe(0);
  });

  it('only a transition to OPEN carries openDuration', () => {
    const { c, clock, log } = circuit();
    c.trip('consecutive-failures');
    clock.advance(500);
    c.state();
    c.transition('CLOSED', 'reset');
    expect(log.map((t) => 'openDuration' in t)).toEqual([true, false, false]);
  });
});
