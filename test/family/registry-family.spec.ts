import { describe, expect, it } from '@jest/globals';
import { NotFoundException } from '@nestjs/common';
import {
  BreakerFamily,
  type CircuitBreakerEvent,
  type CircuitBreakerModuleOptions,
  CircuitBreakerRegistry,
  isBreakerOptionsError,
  ManualClock,
  UnknownCircuitBreakerFamilyError,
} from '../../lib/index.js';

function registry(options: CircuitBreakerModuleOptions = {}): CircuitBreakerRegistry {
  const r = new CircuitBreakerRegistry({ defaults: { clock: new ManualClock() }, ...options });
  return r;
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('did not throw');
}

const failWith = (error: unknown) => () => Promise.reject(error);

describe('CircuitBreakerRegistry: families', () => {
  it('family(name) is a BreakerFamily built from defaults, the config it extends and its own options', () => {
    const r = registry({
      configs: { strict: { failureThreshold: 2, openDuration: 5_000 } },
      families: { carrier: { extends: 'strict', failureThreshold: 3, maxKeys: 7 } },
    });
    r.initialise();
    const family = r.family('carrier');
    expect(family).toBeInstanceOf(BreakerFamily);
    expect(r.family('carrier')).toBe(family);
    expect(family.maxKeys).toBe(7);
    const dhl = family.get('dhl');
    expect(dhl.name).toBe('carrier:dhl');
    expect(dhl.options.circuit).toMatchObject({
      openDuration: 5_000,
      policy: { failureThreshold: 3 },
    });
    expect(r.hasFamily('carrier')).toBe(true);
    expect(r.familyNames()).toEqual(['carrier']);
    // Members are not breakers of the registry.
    expect(r.has('carrier:dhl')).toBe(false);
    expect(Object.keys(r.snapshot())).toEqual([]);
    expect(r.familySnapshot().carrier).toMatchObject({ keys: 1, maxKeys: 7 });
  });

  it('an unknown family throws, naming the known ones and the closest', () => {
    const r = registry({ families: { carrier: {} } });
    const error = thrown(() => r.family('carier'));
    expect(error).toBeInstanceOf(UnknownCircuitBreakerFamilyError);
    expect(error.message).toContain(
      'Unknown circuit breaker family "carier" (did you mean "carrier"?). Known families: "carrier".',
    );
  });

  it('a 4xx is the caller’s fault for every key, also with a key’s own ignore', async () => {
    class Skip extends Error {}
    const r = registry({
      families: { carrier: { failureThreshold: 1, keyOptions: { dhl: { ignore: [Skip] } } } },
    });
    for (const key of ['dhl', 'ups']) {
      const breaker = r.family('carrier').get(key);
      await expect(breaker.execute(failWith(new NotFoundException()))).rejects.toThrow();
      expect(breaker.state).toBe('CLOSED');
      expect(breaker.stats().ignored).toBe(1);
    }
    const dhl = r.family('carrier').get('dhl');
    await expect(dhl.execute(failWith(new Skip()))).rejects.toThrow();
    expect(dhl.stats().ignored).toBe(2);
  });

  it('ignoreHttpClientErrors: false counts a 4xx as a failure', async () => {
    const r = registry({
      families: { carrier: { failureThreshold: 1, ignoreHttpClientErrors: false } },
    });
    const breaker = r.family('carrier').get('dhl');
    await expect(breaker.execute(failWith(new NotFoundException()))).rejects.toThrow();
    expect(breaker.state).toBe('OPEN');
  });

  it('fails the bootstrap on invalid family options, naming the family and where they were written', () => {
    const cases: Array<[CircuitBreakerModuleOptions, string, string]> = [
      [{ families: { carrier: { maxKeys: 0 } } }, 'maxKeys', 'forRoot({ families })'],
      [{ families: { carrier: { failureThreshold: -1 } } }, 'failureThreshold', 'families'],
      [{ families: { carrier: { nope: 1 } as never } }, 'nope', 'families'],
      [{ families: { 'a:b': {} } }, 'name', 'without ":"'],
      [{ families: { carrier: { extends: 'missing' } } }, 'extends', 'configuration'],
    ];
    for (const [options, option, text] of cases) {
      const error = thrown(() => registry(options).initialise());
      expect(isBreakerOptionsError(error)).toBe(true);
      expect(error).toMatchObject({ option });
      expect(error.message).toContain(text);
    }
  });

  it('a family’s name may not be a breaker’s, nor the start of one', () => {
    const clashes: Array<CircuitBreakerModuleOptions['breakers']> = [
      { carrier: {} },
      { 'carrier:dhl': {} },
    ];
    for (const breakers of clashes) {
      const error = thrown(() => registry({ breakers, families: { carrier: {} } }).initialise());
      expect(error).toMatchObject({ breakerName: 'carrier', option: 'name' });
      expect(error.message).toContain('its breakers are named "carrier:<key>"');
    }
    const r = registry({ families: { carrier: {} } });
    r.initialise();
    expect(() => r.getOrCreate('carrier:x', {})).toThrow('a family name no breaker is named');
    const auto = registry({ autoCreate: true, families: { carrier: {} } });
    auto.initialise();
    expect(() => auto.get('carrier:y')).toThrow('a family name no breaker is named');
    expect(auto.get('carrierx').name).toBe('carrierx');
  });

  it('events$ carries the members’ events with the family and the key, until a key is released', async () => {
    const r = registry({ families: { carrier: { failureThreshold: 1, maxKeys: 1 } } });
    r.initialise();
    const events: CircuitBreakerEvent[] = [];
    const subscription = r.events$.subscribe((e) => events.push(e));
    const dhl = r.family('carrier').get('dhl');
    await dhl.execute(async () => 1);
    expect(events).toEqual([
      expect.objectContaining({
        breaker: 'carrier:dhl',
        family: 'carrier',
        key: 'dhl',
        type: 'success',
      }),
    ]);
    r.family('carrier').get('ups');
    expect(dhl.isDisposed).toBe(true);
    await r
      .family('carrier')
      .get('ups')
      .execute(failWith(new Error('down')))
      .catch(() => undefined);
    // The released key's breaker is no longer held by the stream (its entry would leak).
    const sources = (r as unknown as { stream: { sources: Map<string, unknown> } }).stream.sources;
    expect([...sources.keys()]).toEqual(['carrier:ups']);
    expect(events.map((e) => `${e.key}:${e.type}`)).toEqual([
      'dhl:success',
      'ups:failure',
      'ups:stateChange',
    ]);
    subscription.unsubscribe();
  });

  it('shutdown disposes every family and its breakers', () => {
    const r = registry({ families: { carrier: {} } });
    r.initialise();
    const family = r.family('carrier');
    const dhl = family.get('dhl');
    r.onApplicationShutdown();
    expect(family.isDisposed).toBe(true);
    expect(dhl.isDisposed).toBe(true);
    expect(() => r.family('other')).toThrow('shut down');
  });
});
