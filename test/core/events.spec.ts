import { describe, expect, it } from '@jest/globals';
import { Breaker, ManualClock } from '../../lib/core/index.js';
import { Listeners } from '../../lib/core/events.js';

interface Map {
  a: number;
  b: string;
}

describe('Listeners', () => {
  it('delivers to listeners in subscription order, and not after dispose', () => {
    const l = new Listeners<Map>(() => undefined);
    const got: string[] = [];
    const one = l.add('a', (n) => got.push(`one:${n}`));
    l.add('a', (n) => got.push(`two:${n}`));
    l.emit('a', 1);
    one.dispose();
    l.emit('a', 2);
    expect(got).toEqual(['one:1', 'two:1', 'two:2']);
    expect(l.has('b')).toBe(false);
  });

  it('a listener added or removed during delivery does not disturb the current delivery', () => {
    const l = new Listeners<Map>(() => undefined);
    const got: string[] = [];
    let late: { dispose(): void } | undefined;
    const second: { dispose: () => void } = { dispose: () => undefined };
    l.add('a', () => {
      got.push('first');
      late = l.add('a', () => got.push('late'));
      second.dispose();
    });
    const s = l.add('a', () => got.push('second'));
    second.dispose = () => s.dispose();
    l.emit('a', 0);
    expect(got).toEqual(['first', 'second']);
    late?.dispose();
  });

  it('queues events emitted by listeners so everyone sees them in order', () => {
    const l = new Listeners<Map>(() => undefined);
    const first: string[] = [];
    const second: string[] = [];
    l.add('a', (n) => {
      first.push(`a${n}`);
      if (n === 1) l.emit('b', 'x');
    });
    l.add('b', (s) => first.push(`b${s}`));
    l.add('a', (n) => second.push(`a${n}`));
    l.add('b', (s) => second.push(`b${s}`));
    l.emit('a', 1);
    expect(first).toEqual(['a1', 'bx']);
    expect(second).toEqual(['a1', 'bx']);
  });

  it('reports a throwing listener and carries on; a throwing reporter is contained too', () => {
    const reported: unknown[] = [];
    const l = new Listeners<Map>((error, name) => {
      reported.push([String((error as Error).message), name]);
      throw new Error('reporter broke');
    });
    const got: number[] = [];
    l.add('a', () => {
      throw new Error('bad listener');
    });
    l.add('a', (n) => got.push(n));
    expect(() => l.emit('a', 3)).not.toThrow();
    expect(got).toEqual([3]);
    expect(reported).toEqual([['bad listener', 'a']]);
  });
});

describe('Breaker events from inside a listener', () => {
  // README: "Events are delivered in the order things happened, even when a listener triggers
  // another event": a call settled inside a listener has its event delivered after that listener.
  it('a success settled inside a failure listener is delivered after the listener returns', async () => {
    const b = new Breaker({ name: 'nested', failureThreshold: 10 });
    const log: string[] = [];
    b.onFailure(() => {
      log.push('failure:start');
      b.executeSync(() => 'inner');
      log.push('failure:end');
    });
    b.onSuccess(() => log.push('success'));
    await b.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
    expect(log).toEqual(['failure:start', 'failure:end', 'success']);
    expect(b.stats()).toMatchObject({ successes: 1, failures: 1 });
    b.dispose();
  });

  it('a reset() inside onTimeout runs after the timeout was counted (and opened the circuit)', async () => {
    // README: the event and what the circuit makes of the outcome are one step; bug 3's second case
    // (a reset() inside onFailure) holds for timeouts too.
    const clock = new ManualClock();
    const b = new Breaker({ name: 'timed', clock, timeout: 100, failureThreshold: 1 });
    const log: string[] = [];
    b.onTimeout(() => {
      log.push('timeout');
      b.reset();
    });
    b.onStateChange((e) => log.push(`${e.from}->${e.to}`));
    const call = b.execute(() => new Promise<never>(() => undefined)).catch(() => undefined);
    clock.advance(100);
    await call;
    expect(log).toEqual(['timeout', 'CLOSED->OPEN', 'OPEN->CLOSED']);
    expect(b.state).toBe('CLOSED');
    b.dispose();
  });
});
