import { describe, expect, it } from '@jest/globals';
import {
  BreakerFamily,
  type BreakerFamilyOptions,
  type FamilyEvictionEvent,
  isBreakerDisposedError,
  isBreakerOptionsError,
  ManualClock,
} from '../../lib/core/index.js';

function make(options: Partial<BreakerFamilyOptions> = {}) {
  const clock = new ManualClock(1_000_000);
  const family = new BreakerFamily({
    name: 'carrier',
    clock,
    failureThreshold: 1,
    openDuration: 1_000,
    ...options,
  });
  const evicted: string[] = [];
  family.onKeyEvicted((e: FamilyEvictionEvent) => evicted.push(`${e.key}:${e.reason}`));
  return { family, clock, evicted };
}

const fail = () => Promise.reject(new Error('down'));

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('did not throw');
}

describe('BreakerFamily: one breaker per key', () => {
  it('creates a key’s breaker on first use, named <family>:<key>, and returns the same one after', () => {
    const { family } = make();
    const created: string[] = [];
    family.onKeyCreated((e) => created.push(`${e.family}/${e.key}/${e.breaker.name}`));
    const dhl = family.get('dhl');
    expect(dhl.name).toBe('carrier:dhl');
    expect(family.get('dhl')).toBe(dhl);
    expect(family.get('ups')).not.toBe(dhl);
    expect(created).toEqual(['carrier/dhl/carrier:dhl', 'carrier/ups/carrier:ups']);
    expect(family.size).toBe(2);
    expect(family.has('dhl')).toBe(true);
    expect(family.peek('fedex')).toBeUndefined();
    expect(family.has('fedex')).toBe(false);
    expect(family.size).toBe(2);
    expect(family.nameOf('a:b')).toBe('carrier:a:b');
  });

  it('keys are independent: one key opening leaves the others closed', async () => {
    const { family } = make();
    await expect(family.get('dhl').execute(fail)).rejects.toThrow('down');
    expect(family.get('dhl').state).toBe('OPEN');
    expect(family.get('ups').state).toBe('CLOSED');
    expect(family.stats().states).toMatchObject({ OPEN: 1, CLOSED: 1 });
  });

  it('applies keyOptions from a function, merged over the family’s options', () => {
    const { family } = make({
      keyOptions: (key) => (key === 'dhl' ? { failureThreshold: 7 } : undefined),
    });
    expect(family.get('dhl').options.circuit.policy).toMatchObject({ failureThreshold: 7 });
    expect(family.get('ups').options.circuit.policy).toMatchObject({ failureThreshold: 1 });
  });

  it('applies keyOptions from a map: an exact key, else the longest matching prefix', () => {
    const { family } = make({
      keyOptions: {
        'eu-*': { openDuration: 2_000 },
        'eu-west-*': { openDuration: 3_000 },
        'eu-west-1': { openDuration: 4_000 },
      },
    });
    expect(family.get('eu-north-1').options.circuit.openDuration).toBe(2_000);
    expect(family.get('eu-west-2').options.circuit.openDuration).toBe(3_000);
    expect(family.get('eu-west-1').options.circuit.openDuration).toBe(4_000);
    expect(family.get('us-east-1').options.circuit.openDuration).toBe(1_000);
  });

  it('keyOptions may switch the policy (options of the family’s policy are dropped)', () => {
    const { family } = make({ keyOptions: { big: { policy: 'count-window', windowSize: 20 } } });
    expect(family.get('big').options.circuit.policy.kind).toBe('count-window');
  });
});

describe('BreakerFamily: bad input', () => {
  it('rejects invalid keys with an error naming the family', () => {
    const { family } = make();
    for (const key of ['', 'x'.repeat(257), 42, undefined]) {
      const error = thrown(() => family.get(key as string));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toContain('Breaker family "carrier"');
    }
    expect(family.get('x'.repeat(256)).name).toHaveLength(256 + 'carrier:'.length);
  });

  it('rejects invalid family options at construction, naming the family and the option', () => {
    const cases: Array<[Partial<BreakerFamilyOptions>, string]> = [
      [{ name: 'a:b' }, 'name'],
      [{ name: '' }, 'name'],
      [{ maxKeys: 0 }, 'maxKeys'],
      [{ maxKeys: 1.5 }, 'maxKeys'],
      [{ idleTimeout: 0 }, 'idleTimeout'],
      [{ idleTimeout: Number.NaN }, 'idleTimeout'],
      [{ keyOptions: 3 as never }, 'keyOptions'],
      [{ keyOptions: { dhl: 3 as never } }, 'keyOptions["dhl"]'],
      [{ keyOptions: { dhl: { name: 'x' } as never } }, 'keyOptions["dhl"].name'],
      [{ failureThreshold: 0 }, 'failureThreshold'],
    ];
    for (const [options, option] of cases) {
      const error = thrown(() => new BreakerFamily({ name: 'carrier', ...options }));
      expect(isBreakerOptionsError(error)).toBe(true);
      expect(error).toMatchObject({ option });
    }
    const mapped = thrown(
      () => new BreakerFamily({ name: 'carrier', keyOptions: { dhl: { failureThreshold: -1 } } }),
    );
    expect(mapped.message).toContain('carrier (keyOptions["dhl"])');
    expect(mapped).toMatchObject({ option: 'failureThreshold' });
  });

  it('validates a key’s options at its first use, naming the family, the key and the option', () => {
    const { family } = make({
      keyOptions: (key) =>
        key === 'bad' ? { openDuration: -5 } : key === 'worse' ? (7 as never) : undefined,
    });
    const error = thrown(() => family.get('bad'));
    expect(isBreakerOptionsError(error)).toBe(true);
    expect(error).toMatchObject({ breakerName: 'carrier:bad', option: 'openDuration' });
    expect(error.message).toContain('in keyOptions of family "carrier" for key "bad"');
    expect(thrown(() => family.get('worse'))).toMatchObject({ option: 'keyOptions' });
    expect(family.has('bad')).toBe(false);
    expect(family.stats().created).toBe(0);
  });
});

describe('BreakerFamily: bounded by maxKeys', () => {
  it('releases the least recently used idle key to make room, and disposes its breaker', () => {
    const { family, evicted } = make({ maxKeys: 3 });
    const a = family.get('a');
    family.get('b');
    family.get('c');
    family.get('a');
    family.get('d');
    expect(family.keys()).toEqual(['c', 'a', 'd']);
    expect(evicted).toEqual(['b:capacity']);
    family.get('e');
    expect(evicted).toEqual(['b:capacity', 'c:capacity']);
    expect(family.get('a')).toBe(a);
    expect(family.stats()).toMatchObject({ keys: 3, created: 5, evicted: { capacity: 2 } });
  });

  it('an evicted key’s breaker is disposed and a later use starts a fresh one', async () => {
    const { family } = make({ maxKeys: 1 });
    const a = family.get('a');
    family.get('b');
    expect(a.isDisposed).toBe(true);
    await expect(a.execute(async () => 1)).rejects.toThrow('has been disposed');
    const again = family.get('a');
    expect(again).not.toBe(a);
    expect(again.isDisposed).toBe(false);
  });

  it('never evicts an OPEN key before its open period ends', async () => {
    const { family, clock, evicted } = make({ maxKeys: 2 });
    await expect(family.get('a').execute(fail)).rejects.toThrow('down');
    family.get('b');
    family.get('c');
    expect(evicted).toEqual(['b:capacity']);
    expect(family.get('a').state).toBe('OPEN');
    clock.advance(1_000);
    family.get('b');
    // 'a' was used (get) after 'c', so 'c' is older: it goes first.
    expect(evicted).toEqual(['b:capacity', 'c:capacity']);
    family.get('c');
    expect(evicted).toEqual(['b:capacity', 'c:capacity', 'a:capacity']);
  });

  it('never evicts a key with calls in flight, nor a half-open key with a probe running', async () => {
    const { family, clock, evicted } = make({ maxKeys: 1 });
    let finish!: () => void;
    const running = family.get('a').execute(() => new Promise<void>((r) => (finish = r)));
    family.get('b');
    expect(evicted).toEqual([]);
    expect(family.stats()).toMatchObject({ keys: 2, overCap: 1 });
    finish();
    await running;
    // Over the cap: the next use gives the room back, now that 'a' is idle.
    await expect(family.get('b').execute(fail)).rejects.toThrow('down');
    expect(evicted).toEqual(['a:capacity']);
    clock.advance(1_000);
    let probe!: () => void;
    const probing = family.get('b').execute(() => new Promise<void>((r) => (probe = r)));
    expect(family.peek('b')!.state).toBe('HALF_OPEN');
    family.get('c');
    expect(evicted).toEqual(['a:capacity']);
    expect(family.stats()).toMatchObject({ keys: 2, overCap: 2 });
    probe();
    await probing;
    family.get('c');
    expect(evicted).toEqual(['a:capacity', 'b:capacity']);
    expect(family.size).toBe(1);
  });

  it('keeps keys held open or disabled by hand', () => {
    const { family, evicted } = make({ maxKeys: 2 });
    family.get('a').isolate();
    family.get('b').disable();
    family.get('c');
    expect(evicted).toEqual([]);
    expect(family.stats()).toMatchObject({ keys: 3, overCap: 1 });
    family.get('a').reset();
    // The use of 'a' gave the room back: 'c' was the only idle key.
    expect(evicted).toEqual(['c:capacity']);
    family.get('d');
    expect(evicted).toEqual(['c:capacity', 'a:capacity']);
    expect(family.keys()).toEqual(['b', 'd']);
  });
});

describe('BreakerFamily: idle expiry, without timers', () => {
  it('releases a key unused for idleTimeout on a later use of the family', () => {
    const { family, clock, evicted } = make({ idleTimeout: 5_000 });
    family.get('a');
    family.get('b');
    clock.advance(4_000);
    family.get('b');
    clock.advance(1_000);
    family.get('c');
    expect(evicted).toEqual(['a:idle']);
    expect(family.keys()).toEqual(['b', 'c']);
  });

  it('keeps an OPEN key past idleTimeout until its open period ends', async () => {
    const { family, clock, evicted } = make({ idleTimeout: 500, openDuration: 2_000 });
    await expect(family.get('a').execute(fail)).rejects.toThrow('down');
    clock.advance(600);
    family.get('b');
    expect(evicted).toEqual([]);
    clock.advance(1_399);
    family.get('b');
    expect(evicted).toEqual([]);
    clock.advance(1);
    // The period is over (HALF_OPEN, no probe), but the sweep found 'a' busy 1 ms ago, which
    // counted as a use: it goes idleTimeout after that.
    expect(family.peek('a')!.state).toBe('HALF_OPEN');
    family.get('b');
    expect(evicted).toEqual([]);
    clock.advance(498);
    family.get('b');
    expect(evicted).toEqual([]);
    clock.advance(1);
    family.get('b');
    expect(evicted).toEqual(['a:idle']);
  });

  it('sweep() releases every expired idle key at once', () => {
    const { family, clock, evicted } = make({ idleTimeout: 100 });
    for (let i = 0; i < 20; i++) family.get(`k${i}`);
    clock.advance(100);
    expect(family.sweep()).toBe(20);
    expect(evicted).toHaveLength(20);
    expect(family.size).toBe(0);
  });

  it('a use releases only a few expired keys (amortised O(1)); the rest go on later uses', () => {
    const { family, clock } = make({ idleTimeout: 100 });
    for (let i = 0; i < 20; i++) family.get(`k${i}`);
    clock.advance(100);
    family.get('new');
    expect(family.size).toBe(21 - 4);
    for (let i = 0; i < 4; i++) family.get('new');
    expect(family.keys()).toEqual(['new']);
  });

  it('idleTimeout: Infinity keeps keys until the cap needs room', () => {
    const { family, clock, evicted } = make({ idleTimeout: Infinity, maxKeys: 2 });
    family.get('a');
    clock.advance(1e12);
    family.get('b');
    expect(evicted).toEqual([]);
    family.get('c');
    expect(evicted).toEqual(['a:capacity']);
  });
});

describe('BreakerFamily: delete, dispose, listeners, stats', () => {
  it('delete(key) releases a key whatever its state', async () => {
    const { family, evicted } = make();
    await expect(family.get('a').execute(fail)).rejects.toThrow('down');
    expect(family.delete('a')).toBe(true);
    expect(family.delete('a')).toBe(false);
    expect(evicted).toEqual(['a:deleted']);
    expect(family.stats().evicted).toEqual({ capacity: 0, idle: 0, deleted: 1 });
  });

  it('dispose() disposes every breaker; get() then throws BreakerDisposedError', () => {
    const { family, evicted } = make();
    const a = family.get('a');
    family.dispose();
    family.dispose();
    expect(a.isDisposed).toBe(true);
    expect(family.size).toBe(0);
    expect(evicted).toEqual([]);
    expect(isBreakerDisposedError(thrown(() => family.get('a')))).toBe(true);
    expect(family.isDisposed).toBe(true);
  });

  it('a throwing listener is reported to onCallbackError and the family goes on', () => {
    const reported: unknown[] = [];
    const { family } = make({
      onCallbackError: (e, source, name) => reported.push([source, name]),
    });
    family.onKeyCreated(() => {
      throw new Error('listener');
    });
    const subscription = family.onKeyCreated(() => reported.push('second'));
    expect(family.get('a').name).toBe('carrier:a');
    subscription.dispose();
    family.get('b');
    expect(reported).toEqual([['listener', 'carrier'], 'second', ['listener', 'carrier']]);
  });

  it('stats() counts keys by state and what was created and released', async () => {
    const { family, clock } = make({ maxKeys: 10, idleTimeout: 10_000 });
    await expect(family.get('a').execute(fail)).rejects.toThrow('down');
    family.get('b').isolate();
    family.get('c');
    clock.advance(5_000);
    family.get('d');
    expect(family.stats()).toEqual({
      name: 'carrier',
      keys: 4,
      maxKeys: 10,
      idleTimeout: 10_000,
      states: { CLOSED: 2, OPEN: 0, HALF_OPEN: 1, FORCED_OPEN: 1, DISABLED: 0 },
      created: 4,
      evicted: { capacity: 0, idle: 0, deleted: 0 },
      overCap: 0,
    });
  });
});
