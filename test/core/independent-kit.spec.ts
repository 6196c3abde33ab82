/**
 * Regressions for the bugs an independent test kit, written from the README alone, found in the
 * engine (issue 10). Each test uses only the public API, quotes the README promise it checks, and
 * failed on the code before its fix.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';
import {
  Breaker,
  InMemoryStore,
  ManualClock,
  isBreakerOptionsError,
  isBulkheadRejectedError,
  isCircuitOpenError,
  type CircuitOpenError,
} from '../../lib/core/index.js';
import { Boom, deferred, flush, outcome } from './helpers/async.js';

class NotFound extends Error {}

const down = (): Promise<never> => Promise.reject(new Boom());
const hang = (): Promise<never> => new Promise<never>(() => undefined);

describe('bug 1: a hung probe expires after probeExpiry, whatever the other probes do', () => {
  // README: "A probe that never settles does not strand the breaker: after `probeExpiry` it
  // counts as failed."
  it('with halfOpenMaxCalls 2, ignored probes settling after it do not move its expiry', async () => {
    const clock = new ManualClock(0);
    const b = new Breaker({
      name: 'p',
      clock,
      failureThreshold: 1,
      openDuration: 100,
      halfOpenMaxCalls: 2,
      probeExpiry: 1_000,
      ignore: [NotFound],
    });
    const reasons: string[] = [];
    b.onStateChange((e) => reasons.push(`${e.to}:${e.reason}@${e.at}`));
    await outcome(b.execute(down));
    clock.set(100);
    void outcome(b.execute(hang)); // probe A hangs
    for (let t = 600; t <= 2_100; t += 500) {
      clock.set(t);
      await outcome(b.execute(() => Promise.reject(new NotFound())));
    }
    // A started at 100, so it expired at 1,100: noticed by the call at 1,100.
    expect(reasons).toContain('OPEN:probe-expired@1100');
  });

  it('executeSync with a full bulkhead gives back its own probe slot, not the hung probe', () => {
    const clock = new ManualClock(0);
    const b = new Breaker({
      name: 'p',
      clock,
      failureThreshold: 1,
      openDuration: 100,
      halfOpenMaxCalls: 2,
      probeExpiry: 1_000,
      maxConcurrent: 1,
    });
    expect(() =>
      b.executeSync(() => {
        throw new Boom();
      }),
    ).toThrow(Boom);
    clock.set(100);
    void b.execute(hang).catch(() => undefined); // probe A hangs, holding the only bulkhead slot
    clock.set(600);
    expect(() => b.executeSync(() => 'ok')).toThrow(/concurrency limit/);
    clock.set(1_100);
    expect(b.state).toBe('OPEN');
    expect(b.stats().failedProbes).toBe(1);
  });

  it('acquire with a full bulkhead gives back its own probe slot, not the hung probe', () => {
    const clock = new ManualClock(0);
    const b = new Breaker({
      name: 'p',
      clock,
      failureThreshold: 1,
      openDuration: 100,
      halfOpenMaxCalls: 2,
      probeExpiry: 1_000,
      maxConcurrent: 1,
    });
    b.acquire().failure(new Boom());
    clock.set(100);
    b.acquire(); // probe A: never reported
    clock.set(600);
    expect(() => b.acquire()).toThrow(/concurrency limit/);
    clock.set(1_100);
    expect(b.state).toBe('OPEN');
  });
});

describe('bug 2: window policies evaluate the rate after every call, a success too', () => {
  // README: "count-window: opens when the failure rate over the last windowSize calls reaches
  // failureRateThreshold, once minimumCalls calls are in the window" (resilience4j evaluates the
  // rate after every recorded call).
  for (const policy of ['count-window', 'time-window'] as const) {
    it(`${policy}: F,F,F,S with minimumCalls 4 and threshold 0.5 opens on the success`, async () => {
      const b = new Breaker({ name: 'w', policy, minimumCalls: 4, failureRateThreshold: 0.5 });
      for (const ok of [false, false, false, true]) {
        await outcome(b.execute(() => (ok ? 'ok' : down())));
      }
      expect(b.stats().failureRate).toBe(0.75);
      expect(b.state).toBe('OPEN');
    });
  }

  it('count-window: F×5 then S×5 over a window of 10 opens on the tenth call', async () => {
    const b = new Breaker({
      name: 'w',
      policy: 'count-window',
      windowSize: 10,
      minimumCalls: 10,
      failureRateThreshold: 0.5,
    });
    const states: string[] = [];
    for (let i = 0; i < 10; i++) {
      await outcome(b.execute(() => (i >= 5 ? 'ok' : down())));
      states.push(b.state);
    }
    expect(states.indexOf('OPEN')).toBe(9);
  });
});

describe('bug 3: events arrive in the order things happened, even when a listener transitions', () => {
  // README: "Listeners run synchronously, in the order things happened, even when a listener
  // triggers another event."
  it('a reset inside stateChange is delivered after the open it reacts to', async () => {
    const b = new Breaker({ name: 'x', failureThreshold: 1 });
    const log: string[] = [];
    b.onStateChange((e) => {
      log.push(`${e.from}->${e.to}`);
      if (e.to === 'OPEN') b.reset();
    });
    b.onOpen(() => log.push('open'));
    b.onClose(() => log.push('close'));
    await outcome(b.execute(down));
    expect(log).toEqual(['CLOSED->OPEN', 'open', 'OPEN->CLOSED', 'close']);
  });
});

describe('bug 4: hostile results and call options are counted once, or refused up front', () => {
  const revoked = (): object => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  };

  it('executeSync: a result whose then getter throws is a counted failure and frees the slot', () => {
    const b = new Breaker({ name: 'h', maxConcurrent: 1 });
    expect(() => b.executeSync(revoked)).toThrow(TypeError);
    const s = b.stats();
    expect([s.calls, s.failures, s.inFlight]).toEqual([1, 1, 0]);
    expect(b.executeSync(() => 'next')).toBe('next');
  });

  it('null and plain values are results; a function with a then method is awaited', async () => {
    const b = new Breaker({ name: 'h', timeout: 1_000 });
    expect(b.executeSync(() => null)).toBeNull();
    await expect(b.execute(() => null)).resolves.toBeNull();
    const thenableFn = Object.assign(() => 0, {
      then: (resolve: (v: number) => void) => resolve(5),
    });
    await expect(b.executeSync(() => thenableFn)).resolves.toBe(5);
    await expect(b.execute(() => thenableFn as unknown as PromiseLike<number>)).resolves.toBe(5);
    expect(b.stats().successes).toBe(4);
  });

  it('execute with a timeout: the TypeError is the one outcome, no timeout follows', async () => {
    const clock = new ManualClock(0);
    const b = new Breaker({ name: 'h', clock, timeout: 100, failureThreshold: 1 });
    const result = await outcome(b.execute(revoked as () => never));
    expect(result.ok ? undefined : result.error).toBeInstanceOf(TypeError);
    clock.advance(1_000);
    await flush();
    const s = b.stats();
    expect([s.calls, s.failures, s.timeouts, clock.pendingTimers]).toEqual([1, 1, 0, 0]);
  });

  it('a signal that is not an AbortSignal is refused before admission, naming the option', async () => {
    const clock = new ManualClock(0);
    const b = new Breaker({
      name: 'h',
      clock,
      timeout: 100,
      failureThreshold: 1,
      openDuration: 10,
    });
    await outcome(b.execute(down));
    clock.advance(10); // HALF_OPEN: one probe slot
    const bad = { signal: {} } as unknown as { signal: AbortSignal };
    const result = await outcome(b.execute(() => 'x', bad));
    expect(result.ok ? '' : String(result.error)).toMatch(
      /"h".*call option "signal" must be an AbortSignal/,
    );
    expect(() => b.executeSync(() => 'x', bad)).toThrow(/call option "signal"/);
    // The probe slot is still free.
    await expect(b.execute(() => 'probe')).resolves.toBe('probe');
    expect(b.state).toBe('CLOSED');
  });
});

describe('bug 5: a breaker disposed during its probe does not strand a shared circuit', () => {
  // README: "dispose() ... calls already running finish" and are counted.
  it("the probe's success still closes the circuit the other breaker shares", async () => {
    const clock = new ManualClock(0);
    const store = new InMemoryStore();
    const options = { clock, store, failureThreshold: 1, openDuration: 10 } as const;
    const a = new Breaker({ name: 's', ...options });
    const b = new Breaker({ name: 's', ...options });
    await outcome(a.execute(down));
    clock.advance(10);
    const probe = deferred<string>();
    const running = a.execute(() => probe.promise);
    a.dispose();
    probe.resolve('ok');
    await expect(running).resolves.toBe('ok');
    expect(b.state).toBe('CLOSED');
    await expect(b.execute(() => 'after')).resolves.toBe('after');
  });
});

describe('bug 6: a call refused in HALF_OPEN gives its bulkhead slot back at once', () => {
  it('a burst of 3 beside one running probe gets 3 half-open refusals, no bulkhead one', async () => {
    const clock = new ManualClock(0);
    const bh = new Breaker({
      name: 'bh',
      clock,
      failureThreshold: 1,
      openDuration: 10,
      maxConcurrent: 3,
    });
    await outcome(bh.execute(down));
    clock.advance(10);
    const probe = deferred<string>();
    const running = bh.execute(() => probe.promise);
    const burst = await Promise.all([1, 2, 3].map(() => outcome(bh.execute(() => 'x'))));
    const reasons = burst.map((r) =>
      r.ok ? 'ran' : isCircuitOpenError(r.error) ? r.error.reason : 'other',
    );
    expect(reasons).toEqual(['half-open', 'half-open', 'half-open']);
    expect(bh.stats().rejectionsByReason.bulkhead).toBe(0);
    probe.resolve('ok');
    await running;
  });
});

describe("bug 7: a caller's own signal is honoured while it waits", () => {
  it('abort while queued in the bulkhead: rejects at once with the reason, fn never runs', async () => {
    const b = new Breaker({ name: 'q', maxConcurrent: 1, maxQueue: 1 });
    const first = deferred<string>();
    const running = b.execute(() => first.promise);
    const controller = new AbortController();
    let ran = false;
    const queued = outcome(
      b.execute(
        () => {
          ran = true;
          return 'late';
        },
        { signal: controller.signal },
      ),
    );
    expect(b.stats().queued).toBe(1);
    controller.abort(new Error('caller left'));
    const result = await queued;
    expect(result.ok ? '' : (result.error as Error).message).toBe('caller left');
    expect(b.stats().queued).toBe(0);
    first.resolve('done');
    await running;
    await flush();
    expect(ran).toBe(false);
    const s = b.stats();
    expect([s.calls, s.successes, s.ignored]).toEqual([2, 1, 1]);
  });

  it('abort while waiting for a half-open verdict: rejects at once, fn never runs', async () => {
    const clock = new ManualClock(0);
    const b = new Breaker({
      name: 'v',
      clock,
      failureThreshold: 1,
      openDuration: 10,
      halfOpenWaitTimeout: 1_000,
    });
    await outcome(b.execute(down));
    clock.advance(10);
    const probe = deferred<string>();
    const running = b.execute(() => probe.promise);
    const controller = new AbortController();
    let ran = false;
    const waiting = outcome(
      b.execute(
        () => {
          ran = true;
          return 'late';
        },
        { signal: controller.signal },
      ),
    );
    controller.abort(new Error('caller left'));
    const result = await waiting;
    expect(result.ok ? '' : (result.error as Error).message).toBe('caller left');
    expect(clock.pendingTimers).toBe(0);
    probe.resolve('ok');
    await running;
    await flush();
    expect(ran).toBe(false);
  });

  it('an already-aborted signal: the dependency is not called, the call counts as ignored', async () => {
    const b = new Breaker({ name: 'a' });
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    let ran = false;
    const result = await outcome(
      b.execute(
        () => {
          ran = true;
          return 'x';
        },
        { signal: controller.signal },
      ),
    );
    expect(result.ok).toBe(false);
    expect(ran).toBe(false);
    expect(b.stats().ignored).toBe(1);
  });
});

describe('bug 8: half-open waiters are woken when an ignored probe frees its slot', () => {
  it('the waiter becomes the probe at once instead of sitting out halfOpenWaitTimeout', async () => {
    const clock = new ManualClock(0);
    const b = new Breaker({
      name: 'w',
      clock,
      failureThreshold: 1,
      openDuration: 10,
      halfOpenWaitTimeout: 10_000,
      ignore: [NotFound],
    });
    await outcome(b.execute(down));
    clock.advance(10);
    const probe = deferred<string>();
    const first = outcome(b.execute(() => probe.promise));
    const waiter = b.execute(() => 'waited');
    probe.reject(new NotFound());
    await first;
    await flush();
    // No time has passed: the waiter took the freed slot and its success closed the circuit.
    await expect(waiter).resolves.toBe('waited');
    expect(b.state).toBe('CLOSED');
    expect(clock.pendingTimers).toBe(0);
  });

  it('a waiter woken for a slot that another caller took first waits on for the verdict', async () => {
    // README: "A waiter that loses the race keeps waiting for the rest of its halfOpenWaitTimeout".
    const clock = new ManualClock(0);
    const b = new Breaker({
      name: 'w',
      clock,
      failureThreshold: 1,
      openDuration: 10,
      halfOpenWaitTimeout: 10_000,
    });
    await outcome(b.execute(down));
    clock.advance(10);
    const first = b.acquire(); // the one probe slot
    const waiter = outcome(b.execute(() => 'waited'));
    first.release(); // frees the slot and wakes the waiter ...
    const second = b.acquire(); // ... but this caller takes the slot before the waiter runs
    await flush();
    expect(b.state).toBe('HALF_OPEN');
    clock.advance(5_000); // within the waiter's halfOpenWaitTimeout
    await flush();
    second.success(); // the verdict: CLOSED, and the waiter is admitted
    expect(await waiter).toEqual({ ok: true, value: 'waited' });
    expect(b.stats().rejections).toBe(0); // nobody was refused
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('bug 9: time-window keeps working on clock readings beyond 2^53 buckets', () => {
  it('a call on a clock reading of 2^64 ms finishes (in a child process, so a hang fails)', () => {
    const script = `
      import { Breaker } from './lib/core/index.ts';
      let t = 2 ** 64;
      const clock = { now: () => t, setTimeout: () => 0, clearTimeout: () => undefined };
      const b = new Breaker({ name: 't', clock, policy: 'time-window', minimumCalls: 2,
        windowDuration: 10_000, windowBuckets: 10, failureRateThreshold: 0.5 });
      await b.execute(() => 'ok');
      t += 2 ** 20;
      await b.execute(() => Promise.reject(new Error('x'))).catch(() => {});
      console.log(JSON.stringify([b.stats().windowCalls, b.state]));
    `;
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: process.cwd(),
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(run.signal).toBeNull();
    expect(run.stderr).toBe('');
    // 2^20 ms later the first call has left the 10 s window: one call in it.
    expect(JSON.parse(run.stdout.trim())).toEqual([1, 'CLOSED']);
  });
});

describe('bug 10: durations never go negative when the clock steps back', () => {
  // Clock docs: "Must not go backwards; if it does, breakers hold their last reading."
  it('success and failure events report durations >= 0', async () => {
    const clock = new ManualClock(5_000);
    const b = new Breaker({ name: 'd', clock, failureThreshold: 10 });
    const durations: number[] = [];
    b.onSuccess((e) => durations.push(e.duration));
    b.onFailure((e) => durations.push(e.duration));
    const ok = deferred<string>();
    const bad = deferred<string>();
    const calls = [b.execute(() => ok.promise), outcome(b.execute(() => bad.promise))];
    clock.set(4_000);
    ok.resolve('ok');
    bad.reject(new Boom());
    await Promise.all(calls);
    expect(durations).toEqual([0, 0]);
  });
});

describe('bug 11: ManualClock lets go of cleared timers', () => {
  it('200,000 timed calls without advancing do not keep their callbacks alive', async () => {
    const clock = new ManualClock(0);
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 200_000; i++) {
      const payload = new ArrayBuffer(2_048); // 400 MB if every cleared timer kept its closure
      clock.clearTimeout(clock.setTimeout(() => payload.byteLength, 1_000));
    }
    await flush();
    expect(clock.pendingTimers).toBe(0);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(100 * 2 ** 20);
  });
});

describe('bug 12: windowSize beyond what can be allocated is refused at construction', () => {
  it('windowSize 2^32 + 1 throws a BreakerOptionsError naming it', () => {
    let error: unknown;
    try {
      new Breaker({ name: 'big', policy: 'count-window', windowSize: 2 ** 32 + 1 });
    } catch (thrown) {
      error = thrown;
    }
    expect(isBreakerOptionsError(error) && error.option).toBe('windowSize');
  });
});

describe('bug 13: a half-open refusal carries retryAfter 0, as documented', () => {
  // README: CircuitOpenError "retryAfter: ms until probes may go (0 when half-open)".
  it('a waiter whose wait ends in the tick the probe fails says HALF_OPEN with retryAfter 0', async () => {
    const clock = new ManualClock(0);
    const b = new Breaker({
      name: 'r',
      clock,
      failureThreshold: 1,
      openDuration: 5_000,
      halfOpenWaitTimeout: 100,
    });
    await outcome(b.execute(down));
    clock.advance(5_000);
    let failProbe!: () => void;
    const probe = outcome(
      b.execute(
        () =>
          new Promise<never>((_, reject) => {
            failProbe = () => reject(new Boom());
          }),
      ),
    );
    const waiter = outcome(b.execute(() => 'x'));
    // The probe fails from a timer due with the waiter's, scheduled after it.
    clock.setTimeout(() => failProbe(), 100);
    clock.advance(100);
    await probe;
    const result = await waiter;
    const error = (result.ok ? undefined : result.error) as CircuitOpenError;
    expect(isCircuitOpenError(error)).toBe(true);
    expect(error.state).toBe('HALF_OPEN');
    expect(error.retryAfter).toBe(0);
  });
});

describe('the answers to what the README left open', () => {
  it('stats().fallbacks counts every fallback called, including one that threw', async () => {
    const b = new Breaker({
      name: 'f',
      fallback: () => {
        throw new Error('fallback broke');
      },
    });
    await outcome(b.execute(down));
    expect(b.stats().fallbacks).toBe(1);
  });

  it('calls refused because the breaker is disposed are not counted in calls', async () => {
    const b = new Breaker({ name: 'd' });
    await b.execute(() => 'ok');
    b.dispose();
    await outcome(b.execute(() => 'x'));
    expect(() => b.executeSync(() => 'x')).toThrow();
    expect(b.stats().calls).toBe(1);
  });

  it('a timeout frees the bulkhead slot at once, even if the function ignores its signal', async () => {
    const clock = new ManualClock(0);
    const b = new Breaker({ name: 't', clock, timeout: 100, maxConcurrent: 1 });
    const first = outcome(b.execute(hang));
    clock.advance(100);
    await first;
    await expect(b.execute(() => 'next')).resolves.toBe('next');
  });

  it.each([
    ['openUntil before openedAt', { openedAt: 1_000, openUntil: 500 }, 'initialState.openUntil'],
    ['openUntil of 1e300', { openedAt: 1_000, openUntil: 1e300 }, 'initialState.openUntil'],
  ])('a snapshot with %s is rejected at construction', (_, times, option) => {
    let error: unknown;
    try {
      new Breaker({
        name: 'n',
        initialState: { state: 'OPEN', generation: 1, since: 1_000, failedProbes: 0, ...times },
      });
    } catch (thrown) {
      error = thrown;
    }
    expect(isBreakerOptionsError(error) && error.option).toBe(option);
  });

  it("another breaker's snapshot is rejected at construction", () => {
    const other = new Breaker({ name: 'other' }).toJSON();
    let error: unknown;
    try {
      new Breaker({ name: 'mine', initialState: other });
    } catch (thrown) {
      error = thrown;
    }
    expect(isBreakerOptionsError(error) && error.option).toBe('initialState.name');
    expect(String(error)).toContain('"other"');
    expect(() => new Breaker({ name: 'other', initialState: other })).not.toThrow();
  });

  it('an open period longer than the configuration allows is shortened to its longest', () => {
    const clock = new ManualClock(1_000);
    const b = new Breaker({
      name: 'n',
      clock,
      openDuration: 500,
      initialState: {
        state: 'OPEN',
        generation: 1,
        since: 1_000,
        openedAt: 1_000,
        openUntil: 61_000,
        failedProbes: 0,
      },
    });
    expect(b.toJSON().openUntil).toBe(1_500);
  });

  it('InMemoryStore refuses a second breaker with another clock or an initialState', () => {
    const store = new InMemoryStore();
    const clock = new ManualClock(0);
    new Breaker({ name: 's', store, clock });
    const optionOf = (make: () => unknown): unknown => {
      try {
        make();
      } catch (error) {
        return isBreakerOptionsError(error) ? error.option : error;
      }
      return undefined;
    };
    expect(optionOf(() => new Breaker({ name: 's', store, clock: new ManualClock(0) }))).toBe(
      'clock',
    );
    expect(
      optionOf(
        () =>
          new Breaker({
            name: 's',
            store,
            clock,
            initialState: { state: 'CLOSED', generation: 0, since: 0, failedProbes: 0 },
          }),
      ),
    ).toBe('initialState');
    expect(optionOf(() => new Breaker({ name: 's', store, clock }))).toBeUndefined();
  });

  it('a bulkhead rejection is never a circuit rejection', async () => {
    const b = new Breaker({ name: 'b', maxConcurrent: 1 });
    const first = deferred<string>();
    const running = b.execute(() => first.promise);
    const second = await outcome(b.execute(() => 'x'));
    expect(!second.ok && isBulkheadRejectedError(second.error)).toBe(true);
    first.resolve('ok');
    await running;
  });
});
