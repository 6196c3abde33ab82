import { describe, expect, it, jest } from '@jest/globals';
import {
  Breaker,
  type BreakerOptions,
  BreakerDisposedError,
  BulkheadRejectedError,
  CallTimeoutError,
  CircuitOpenError,
  InMemoryStore,
  ManualClock,
  type StateChangeEvent,
  isBreakerDisposedError,
  isBulkheadRejectedError,
  isCircuitOpenError,
} from '../../lib/core/index.js';
import { Boom, Ignorable, deferred, flush, outcome } from './helpers/async.js';

function make(options: Partial<BreakerOptions> = {}) {
  const clock = new ManualClock(1_000_000);
  const b = new Breaker({ name: 'svc', clock, openDuration: 1_000, ...options });
  return { b, clock };
}

const failing = () => Promise.reject(new Boom());

async function failTimes(b: Breaker, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await outcome(b.execute(failing));
}

describe('Breaker: the basic cycle', () => {
  it('passes calls and their results through while CLOSED', async () => {
    const { b } = make();
    expect(b.state).toBe('CLOSED');
    expect(await b.execute(async () => 42)).toBe(42);
    expect(await b.execute(() => 'sync value')).toBe('sync value');
    await expect(b.execute(failing)).rejects.toBeInstanceOf(Boom);
    expect(b.stats()).toMatchObject({ calls: 3, successes: 2, failures: 1 });
  });

  it('opens after failureThreshold consecutive failures; a success in between starts the count again', async () => {
    const { b } = make({ failureThreshold: 3 });
    await failTimes(b, 2);
    await b.execute(async () => 1);
    await failTimes(b, 2);
    expect(b.state).toBe('CLOSED');
    await failTimes(b, 1);
    expect(b.state).toBe('OPEN');
  });

  it('rejects while OPEN without calling the function, with a CircuitOpenError saying when to retry', async () => {
    const { b, clock } = make({ failureThreshold: 1 });
    await failTimes(b, 1);
    clock.advance(250);
    const fn = jest.fn(async () => 1);
    const r = await outcome(b.execute(fn));
    expect(fn).not.toHaveBeenCalled();
    expect(r.ok).toBe(false);
    const error = (r as { error: CircuitOpenError }).error;
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error).toMatchObject({ breakerName: 'svc', state: 'OPEN', retryAfter: 750 });
    expect(error.message).toBe('Circuit breaker "svc" is open; retry in 750 ms');
    expect(isCircuitOpenError(error)).toBe(true);
  });

  it('does not capture a stack trace for rejections unless asked to', async () => {
    const cheap = make({ failureThreshold: 1 }).b;
    await failTimes(cheap, 1);
    const e1 = (await outcome(cheap.execute(async () => 1))) as { error: Error };
    expect(e1.error.stack?.split('\n')).toHaveLength(1);

    const traced = make({ failureThreshold: 1, rejectionStackTraces: true }).b;
    await failTimes(traced, 1);
    const e2 = (await outcome(traced.execute(async () => 1))) as { error: Error };
    expect(e2.error.stack?.split('\n').length).toBeGreaterThan(1);
  });

  it('goes HALF_OPEN after openDuration; a successful probe closes it', async () => {
    const { b, clock } = make({ failureThreshold: 1 });
    const events: string[] = [];
    b.onStateChange((e) => events.push(`${e.from}->${e.to}:${e.reason}`));
    await failTimes(b, 1);
    clock.advance(1_000);
    expect(b.state).toBe('HALF_OPEN');
    await b.execute(async () => 'ok');
    expect(b.state).toBe('CLOSED');
    expect(events).toEqual([
      'CLOSED->OPEN:consecutive-failures',
      'OPEN->HALF_OPEN:open-period-elapsed',
      'HALF_OPEN->CLOSED:probes-succeeded',
    ]);
  });

  it('with halfOpenMaxCalls = 3, closes only after three successful probes; one failure re-opens', async () => {
    const { b, clock } = make({ failureThreshold: 1, halfOpenMaxCalls: 3 });
    await failTimes(b, 1);
    clock.advance(1_000);
    await b.execute(async () => 1);
    await b.execute(async () => 1);
    expect(b.state).toBe('HALF_OPEN');
    await b.execute(async () => 1);
    expect(b.state).toBe('CLOSED');

    await failTimes(b, 1);
    clock.advance(1_000);
    await b.execute(async () => 1);
    await failTimes(b, 1);
    expect(b.state).toBe('OPEN');
    expect(b.stats().failedProbes).toBe(1);
  });

  it('an ignored error during a probe frees the probe slot for another caller', async () => {
    const { b, clock } = make({ failureThreshold: 1, ignore: [Ignorable] });
    await failTimes(b, 1);
    clock.advance(1_000);
    await outcome(b.execute(() => Promise.reject(new Ignorable())));
    expect(b.state).toBe('HALF_OPEN');
    expect(await b.execute(async () => 'second probe')).toBe('second probe');
    expect(b.state).toBe('CLOSED');
  });
});

describe('Breaker: open duration and backoff', () => {
  it('a fixed openDuration is the same after every failed probe', async () => {
    const { b, clock } = make({ failureThreshold: 1 });
    await failTimes(b, 1);
    for (let i = 0; i < 3; i++) {
      clock.advance(999);
      expect(b.state).toBe('OPEN');
      clock.advance(1);
      await failTimes(b, 1);
    }
    expect(b.stats().retryAfter).toBe(1_000);
  });

  it('exponential backoff grows the open period after each failed probe, up to the cap, and resets on close', async () => {
    const { b, clock } = make({
      failureThreshold: 1,
      backoff: { multiplier: 2, maxDuration: 5_000, jitter: 0 },
    });
    const durations: number[] = [];
    b.onOpen((e) => durations.push(e.openDuration!));
    await failTimes(b, 1);
    for (let i = 0; i < 4; i++) {
      clock.advance(durations.at(-1)!);
      await failTimes(b, 1);
    }
    expect(durations).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    clock.advance(5_000);
    await b.execute(async () => 1);
    await failTimes(b, 1);
    expect(durations.at(-1)).toBe(1_000);
  });

  it('jitter spreads the period within ±jitter, drawn from the injected random source', async () => {
    const draws = [0, 0.999999, 0.5];
    const { b, clock } = make({
      failureThreshold: 1,
      backoff: { multiplier: 1, jitter: 0.2 },
      random: () => draws.shift() ?? 0.5,
    });
    const durations: number[] = [];
    b.onOpen((e) => durations.push(Math.round(e.openDuration!)));
    await failTimes(b, 1);
    clock.advance(durations.at(-1)!);
    await failTimes(b, 1);
    clock.advance(durations.at(-1)!);
    await failTimes(b, 1);
    expect(durations).toEqual([800, 1_200, 1_000]);
  });

  it('a custom backoff function receives the attempt; a throwing one falls back to openDuration', async () => {
    const seen: number[] = [];
    const { b, clock } = make({
      failureThreshold: 1,
      backoff: (attempt, base) => {
        seen.push(attempt);
        if (attempt === 2) throw new Error('bad backoff');
        return base + attempt * 100;
      },
    });
    const durations: number[] = [];
    b.onOpen((e) => durations.push(e.openDuration!));
    await failTimes(b, 1);
    for (let i = 0; i < 2; i++) {
      clock.advance(durations.at(-1)!);
      await failTimes(b, 1);
    }
    expect(seen).toEqual([0, 1, 2]);
    expect(durations).toEqual([1_000, 1_100, 1_000]);
  });
});

describe('Breaker: what counts as a failure', () => {
  it('ignore (classes): the error reaches the caller and counts as neither success nor failure', async () => {
    const { b } = make({ failureThreshold: 1, ignore: [Ignorable] });
    const ignored: unknown[] = [];
    b.onIgnored((e) => ignored.push(e.error));
    await expect(b.execute(() => Promise.reject(new Ignorable()))).rejects.toBeInstanceOf(
      Ignorable,
    );
    expect(b.state).toBe('CLOSED');
    expect(b.stats()).toMatchObject({ calls: 1, ignored: 1, failures: 0, successes: 0 });
    expect(ignored).toHaveLength(1);
  });

  it('an ignored event carries the call duration (a listener for it alone turns timing on); NaN for a call that never ran', async () => {
    const { b, clock } = make({ ignore: [Ignorable] });
    const durations: number[] = [];
    b.onIgnored((e) => durations.push(e.duration));
    await outcome(
      b.execute(async () => {
        clock.advance(70);
        throw new Ignorable();
      }),
    );
    const controller = new AbortController();
    controller.abort();
    await outcome(b.execute(async () => 'never', { signal: controller.signal }));
    expect(durations).toEqual([70, NaN]);
  });

  it('ignore (predicate) and isFailure: false counts the call as a success, the error still reaches the caller', async () => {
    const { b } = make({
      failureThreshold: 2,
      ignore: (e) => (e as Error).message === 'skip',
      isFailure: (e) => (e as Error).message !== 'not found',
    });
    await expect(b.execute(() => Promise.reject(new Error('skip')))).rejects.toThrow('skip');
    await outcome(b.execute(failing));
    await expect(b.execute(() => Promise.reject(new Error('not found')))).rejects.toThrow(
      'not found',
    );
    await outcome(b.execute(failing));
    expect(b.state).toBe('CLOSED');
    expect(b.stats()).toMatchObject({ ignored: 1, successes: 1, failures: 2 });
  });

  it('a throwing isFailure or ignore is reported, and the call counts as a failure', async () => {
    const reported: Array<[unknown, string]> = [];
    const { b } = make({
      isFailure: () => {
        throw new Error('classifier bug');
      },
      onCallbackError: (error, source) => reported.push([error, source]),
    });
    await expect(b.execute(failing)).rejects.toBeInstanceOf(Boom);
    expect(b.stats().failures).toBe(1);
    expect(reported).toHaveLength(1);
    expect(reported[0]![1]).toBe('isFailure');

    const bug = new Error('ignore bug');
    const { b: ignoring } = make({
      ignore: () => {
        throw bug;
      },
      onCallbackError: (error, source) => reported.push([error, source]),
    });
    await expect(ignoring.execute(failing)).rejects.toBeInstanceOf(Boom);
    expect(ignoring.stats()).toMatchObject({ failures: 1, ignored: 0 });
    expect(reported[1]).toEqual([bug, 'ignore']);
  });

  it('counts rejections with non-Error values (strings, null, frozen objects) as failures and passes them on untouched', async () => {
    const { b } = make({ failureThreshold: 10 });
    const frozen = Object.freeze({ code: 'E' });
    for (const value of ['text', null, undefined, frozen, 0]) {
      const r = await outcome(b.execute(() => Promise.reject(value)));
      expect(r).toEqual({ ok: false, error: value });
    }
    expect(b.stats().failures).toBe(5);
  });

  it('a function that throws synchronously is a failure, delivered as a rejection', async () => {
    const { b } = make();
    const p = b.execute(() => {
      throw new Boom('sync');
    });
    expect(p).toBeInstanceOf(Promise);
    await expect(p).rejects.toThrow('sync');
    expect(b.stats().failures).toBe(1);
  });

  it('a call whose caller aborted it counts as ignored, not as a failure', async () => {
    const { b } = make({ failureThreshold: 1 });
    const controller = new AbortController();
    const p = b.execute(
      (signal) =>
        new Promise((_, reject) => {
          signal!.addEventListener('abort', () => reject(signal!.reason));
        }),
      { signal: controller.signal },
    );
    controller.abort(new Error('caller went away'));
    await expect(p).rejects.toThrow('caller went away');
    expect(b.state).toBe('CLOSED');
    expect(b.stats()).toMatchObject({ ignored: 1, failures: 0 });
  });
});

describe('Breaker: timeouts', () => {
  it('aborts the signal, rejects with CallTimeoutError, counts a timeout and trips like a failure', async () => {
    const { b, clock } = make({ timeout: 100, failureThreshold: 2 });
    const timeouts: number[] = [];
    b.onTimeout((e) => timeouts.push(e.timeout));
    const hang = () => new Promise<never>(() => undefined);
    const first = outcome(b.execute(hang));
    const second = outcome(b.execute(hang));
    clock.advance(100);
    const results = await Promise.all([first, second]);
    expect(results.map((r) => !r.ok && (r.error as Error).name)).toEqual([
      'CallTimeoutError',
      'CallTimeoutError',
    ]);
    expect((results[0] as { error: Error }).error.message).toBe(
      'Call through circuit breaker "svc" timed out after 100 ms',
    );
    expect(timeouts).toEqual([100, 100]);
    expect(b.state).toBe('OPEN');
    expect(b.stats()).toMatchObject({ timeouts: 2, failures: 0 });
  });

  it("forwards the caller's abort signal through the timeout's signal", async () => {
    const { b } = make({ timeout: 1_000 });
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const p = b.execute(
      (signal) => {
        seen = signal;
        return new Promise((_, reject) =>
          signal!.addEventListener('abort', () => reject(signal!.reason)),
        );
      },
      { signal: controller.signal },
    );
    controller.abort('stop');
    await expect(p).rejects.toBe('stop');
    expect(seen?.aborted).toBe(true);
    expect(b.stats()).toMatchObject({ ignored: 1 });
  });

  it('a timed-out call is answered by the fallback (fallbackOnFailure defaults to true)', async () => {
    const { b, clock } = make({ timeout: 10, fallback: 'cached' });
    const p = b.execute(() => new Promise<string>(() => undefined));
    clock.advance(10);
    expect(await p).toBe('cached');
    expect(b.stats()).toMatchObject({ timeouts: 1, fallbacks: 1 });
  });

  it("passes the caller's signal, a fresh signal per call with a timeout, and none when nothing can abort", async () => {
    const seen: Array<AbortSignal | undefined> = [];
    const plain = make().b;
    await plain.execute((signal) => seen.push(signal));
    const controller = new AbortController();
    await plain.execute((signal) => seen.push(signal), { signal: controller.signal });
    const timed = make({ timeout: 1_000 }).b;
    await timed.execute((signal) => seen.push(signal));
    await timed.execute((signal) => seen.push(signal));
    expect(seen[0]).toBeUndefined();
    expect(seen[1]).toBe(controller.signal);
    expect(seen[2]).toBeInstanceOf(AbortSignal);
    expect(seen[3]).toBeInstanceOf(AbortSignal);
    expect(seen[2]).not.toBe(seen[3]);
  });
});

describe('Breaker: fallbacks', () => {
  it('answers rejected calls with a fallback value', async () => {
    const { b } = make({ failureThreshold: 1, fallback: 'cached', fallbackOnFailure: false });
    await failTimes(b, 1);
    expect(await b.execute(async () => 'live')).toBe('cached');
    expect(b.stats()).toMatchObject({ rejections: 1, fallbacks: 1 });
  });

  it('calls a fallback function with the error and the call arguments', async () => {
    const fallback = jest.fn((error: unknown, args: readonly unknown[]) => `fb:${args.join(',')}`);
    const { b } = make({ failureThreshold: 1, fallback });
    expect(await b.execute(failing, { args: ['f'] })).toBe('fb:f');
    expect(fallback.mock.calls[0]![0]).toBeInstanceOf(Boom);
    expect(await b.execute(async () => 'live', { args: ['a', 1] })).toBe('fb:a,1');
    expect(isCircuitOpenError(fallback.mock.calls[1]![0])).toBe(true);
  });

  it("a call's own fallback overrides the breaker's; by default it answers failures as well as refusals", async () => {
    const { b } = make({ failureThreshold: 2, fallback: async () => 'recovered' });
    expect(await b.execute(failing)).toBe('recovered');
    expect(await b.execute(failing, { fallback: 'call' })).toBe('call');
    expect(b.state).toBe('OPEN');
    expect(await b.execute(async () => 'live', { fallback: 'call' })).toBe('call');
    expect(await b.execute(async () => 'live')).toBe('recovered');
    expect(b.stats()).toMatchObject({ failures: 2, rejections: 2, fallbacks: 4 });
  });

  it('fallbackOnFailure: false limits the fallback to refused calls: failures reach the caller', async () => {
    const { b } = make({ failureThreshold: 2, fallback: 'breaker', fallbackOnFailure: false });
    await expect(b.execute(failing, { fallback: 'call' })).rejects.toBeInstanceOf(Boom);
    await expect(b.execute(failing)).rejects.toBeInstanceOf(Boom);
    expect(await b.execute(async () => 'live', { fallback: 'call' })).toBe('call');
    expect(await b.execute(async () => 'live')).toBe('breaker');
    expect(b.stats()).toMatchObject({ failures: 2, rejections: 2, fallbacks: 2 });
  });

  it('with fallbackOnFailure: false, a timed-out call rejects with CallTimeoutError', async () => {
    const strict = make({ timeout: 10, fallback: 'cached', fallbackOnFailure: false });
    const q = outcome(strict.b.execute(() => new Promise<string>(() => undefined)));
    strict.clock.advance(10);
    const result = await q;
    expect(!result.ok && result.error).toBeInstanceOf(CallTimeoutError);
  });

  it('an ignored error is never replaced by a fallback', async () => {
    const { b } = make({ ignore: [Ignorable], fallback: 'x' });
    await expect(b.execute(() => Promise.reject(new Ignorable()))).rejects.toBeInstanceOf(
      Ignorable,
    );
  });

  it("a fallback that throws delivers the fallback's error to the caller", async () => {
    const { b } = make({
      failureThreshold: 1,
      fallback: () => {
        throw new Error('fallback broke');
      },
    });
    await failTimes(b, 1);
    await expect(b.execute(async () => 1)).rejects.toThrow('fallback broke');
  });
});

describe('Breaker: manual control', () => {
  it('isolate() holds the circuit open until reset(); rejections say FORCED_OPEN with no retry time', async () => {
    const { b, clock } = make();
    b.isolate();
    clock.advance(1e9);
    expect(b.state).toBe('FORCED_OPEN');
    const r = (await outcome(b.execute(async () => 1))) as { error: CircuitOpenError };
    expect(r.error).toMatchObject({ state: 'FORCED_OPEN', retryAfter: undefined });
    expect(r.error.reason).toBe('forced-open');
    b.reset();
    expect(await b.execute(async () => 1)).toBe(1);
  });

  it('disable() lets every call through and still counts it, without ever tripping', async () => {
    const { b } = make({ failureThreshold: 1 });
    b.disable();
    await failTimes(b, 20);
    expect(b.state).toBe('DISABLED');
    expect(await b.execute(async () => 'passes')).toBe('passes');
    expect(b.stats()).toMatchObject({ failures: 20, successes: 1, opens: 0 });
  });

  it('reset() closes an open circuit, forgets the window and backoff, keeps lifetime counters', async () => {
    const { b } = make({ failureThreshold: 2, backoff: { jitter: 0 } });
    await failTimes(b, 2);
    b.reset();
    expect(b.state).toBe('CLOSED');
    await failTimes(b, 1);
    expect(b.state).toBe('CLOSED');
    expect(b.stats()).toMatchObject({ failures: 3, consecutiveFailures: 1, failedProbes: 0 });
  });
});

describe('Breaker: executeSync and permits', () => {
  it('executeSync keeps a synchronous function synchronous and throws CircuitOpenError synchronously', () => {
    const { b } = make({ failureThreshold: 1 });
    expect(b.executeSync(() => 7)).toBe(7);
    expect(() =>
      b.executeSync(() => {
        throw new Boom();
      }),
    ).toThrow(Boom);
    expect(() => b.executeSync(() => 7)).toThrow(CircuitOpenError);
    expect(b.executeSync(() => 7, { fallback: 0 })).toBe(0);
  });

  it('executeSync tracks a returned promise: its settlement is the outcome', async () => {
    const { b } = make({ failureThreshold: 1 });
    const d = deferred<number>();
    const p = b.executeSync(() => d.promise);
    expect(b.stats().inFlight).toBe(1);
    d.reject(new Boom());
    await expect(p).rejects.toBeInstanceOf(Boom);
    expect(b.state).toBe('OPEN');
  });

  it('a permit reports one outcome; later reports are ignored', async () => {
    const { b, clock } = make({ failureThreshold: 1 });
    const permit = b.acquire();
    expect(b.stats().inFlight).toBe(1);
    expect(permit.failure(new Boom())).toBe('failure');
    expect(permit.failure(new Boom())).toBeUndefined();
    permit.success();
    expect(b.stats()).toMatchObject({ calls: 1, failures: 1, successes: 0, inFlight: 0 });
    expect(() => b.acquire()).toThrow(CircuitOpenError);
    clock.advance(1_000);
    const probe = b.acquire();
    expect(() => b.acquire()).toThrow(CircuitOpenError);
    probe.release();
    const second = b.acquire();
    second.success();
    expect(b.state).toBe('CLOSED');
    expect(b.stats()).toMatchObject({ ignored: 1, rejections: 2 });
  });

  it('a permit can report a timeout: counted once as a timeout, a failure for the trip policy', () => {
    const timeouts: number[] = [];
    const { b } = make({ failureThreshold: 2, timeout: 250 });
    b.onTimeout((e) => timeouts.push(e.timeout));
    const first = b.acquire();
    const error = first.timeout();
    expect(error).toBeInstanceOf(CallTimeoutError);
    expect(error?.message).toBe('Call through circuit breaker "svc" timed out after 250 ms');
    expect(first.timeout()).toBeUndefined();
    expect(first.failure(new Boom())).toBeUndefined();
    b.acquire().timeout();
    expect(b.state).toBe('OPEN');
    expect(timeouts).toEqual([250, 250]);
    expect(b.stats()).toMatchObject({ calls: 2, timeouts: 2, failures: 0, inFlight: 0 });
  });
});

describe('Breaker: bulkhead', () => {
  it('runs at most maxConcurrent calls, queues up to maxQueue, rejects the rest without counting a failure', async () => {
    const { b } = make({ maxConcurrent: 2, maxQueue: 1, failureThreshold: 1 });
    let running = 0;
    let peak = 0;
    const gates = [deferred<void>(), deferred<void>(), deferred<void>()];
    let started = 0;
    const call = () =>
      b.execute(async () => {
        const gate = gates[started++]!;
        running++;
        peak = Math.max(peak, running);
        await gate.promise;
        running--;
        return 'done';
      });
    const results = [call(), call(), call(), call()].map((p) => outcome(p));
    await flush();
    expect(started).toBe(2);
    expect(b.stats()).toMatchObject({ inFlight: 2, queued: 1 });
    const rejected = await results[3]!;
    expect(!rejected.ok && isBulkheadRejectedError(rejected.error)).toBe(true);
    expect((rejected as { error: BulkheadRejectedError }).error.message).toBe(
      'Circuit breaker "svc" is at its concurrency limit (2 running, 1 queued)',
    );
    gates.forEach((g) => g.resolve());
    await Promise.all(results);
    expect(peak).toBe(2);
    expect(b.state).toBe('CLOSED');
    expect(b.stats()).toMatchObject({
      successes: 3,
      failures: 0,
      rejections: 1,
      rejectionsByReason: { bulkhead: 1, open: 0, halfOpen: 0, forcedOpen: 0 },
    });
  });

  it('a queued call whose circuit opened while it waited is rejected by the circuit, not run', async () => {
    const { b } = make({ maxConcurrent: 1, maxQueue: 5, failureThreshold: 1 });
    const gate = deferred<never>();
    const first = outcome(b.execute(() => gate.promise));
    const fn = jest.fn(async () => 1);
    const queued = outcome(b.execute(fn));
    gate.reject(new Boom());
    await first;
    const r = await queued;
    expect(fn).not.toHaveBeenCalled();
    expect(!r.ok && isCircuitOpenError(r.error)).toBe(true);
  });
});

describe('Breaker: events and listeners', () => {
  it('emits typed events, and a disposed listener hears nothing more', async () => {
    const { b } = make({ failureThreshold: 1 });
    const heard: string[] = [];
    const sub = b.onSuccess(() => heard.push('success'));
    b.onFailure((e) => heard.push(`failure:${(e.error as Error).message}`));
    b.onOpen(() => heard.push('open'));
    b.onRejection((e) => heard.push(`rejection:${e.reason}`));
    await b.execute(async () => 1);
    sub.dispose();
    sub.dispose();
    await b.execute(async () => 1);
    await outcome(b.execute(failing));
    await outcome(b.execute(async () => 1));
    expect(heard).toEqual(['success', 'failure:boom', 'open', 'rejection:open']);
  });

  it('a listener that throws is reported and changes nothing for the breaker or the caller', async () => {
    const reported: string[] = [];
    const { b } = make({
      failureThreshold: 1,
      onCallbackError: (_e, source, name) => reported.push(`${source}:${name}`),
    });
    b.onFailure(() => {
      throw new Error('listener bug');
    });
    b.onOpen(() => {
      throw new Error('listener bug');
    });
    const heard: string[] = [];
    b.onOpen(() => heard.push('second listener still runs'));
    await expect(b.execute(failing)).rejects.toBeInstanceOf(Boom);
    expect(b.state).toBe('OPEN');
    expect(heard).toEqual(['second listener still runs']);
    expect(reported).toEqual(['listener:svc', 'listener:svc']);
  });

  it('events emitted from inside a listener arrive in order for every listener', async () => {
    const { b, clock } = make({ failureThreshold: 1 });
    const first: string[] = [];
    const second: string[] = [];
    b.onStateChange((e) => {
      first.push(e.to);
      if (e.to === 'OPEN') b.reset();
    });
    b.onStateChange((e) => second.push(e.to));
    await failTimes(b, 1);
    expect(first).toEqual(['OPEN', 'CLOSED']);
    expect(second).toEqual(['OPEN', 'CLOSED']);
    void clock;
  });

  it('a listener reading stats() during an event sees counters that add up', async () => {
    const { b } = make({ failureThreshold: 2 });
    const sums: boolean[] = [];
    const check = () => {
      const s = b.stats();
      sums.push(s.calls === s.successes + s.failures + s.timeouts + s.ignored + s.rejections);
    };
    b.onFailure(check);
    b.onOpen(check);
    b.onRejection(check);
    b.onSuccess(check);
    await b.execute(async () => 1);
    await failTimes(b, 3);
    expect(sums).toHaveLength(5);
    expect(sums.every(Boolean)).toBe(true);
  });

  it('measures durations only when someone needs them', async () => {
    const { b, clock } = make();
    const durations: number[] = [];
    b.onSuccess((e) => durations.push(e.duration));
    await b.execute(async () => {
      clock.advance(30);
      return 1;
    });
    expect(durations).toEqual([30]);
  });
});

describe('Breaker: snapshot and restore', () => {
  it('toJSON() round-trips through initialState, including an open period in progress', async () => {
    const { b, clock } = make({ failureThreshold: 1 });
    await failTimes(b, 1);
    clock.advance(400);
    const snapshot = JSON.parse(JSON.stringify(b));
    expect(snapshot).toMatchObject({ name: 'svc', state: 'OPEN', generation: 1, failedProbes: 0 });

    const restored = new Breaker({
      name: 'svc',
      clock,
      openDuration: 1_000,
      initialState: snapshot,
    });
    expect(restored.state).toBe('OPEN');
    expect(restored.stats().retryAfter).toBe(600);
    clock.advance(600);
    expect(restored.state).toBe('HALF_OPEN');
  });

  it('a HALF_OPEN snapshot restores as open with its period over: the next call is a fresh probe', async () => {
    const { b, clock } = make({ failureThreshold: 1 });
    await failTimes(b, 1);
    clock.advance(1_000);
    expect(b.state).toBe('HALF_OPEN');
    const restored = new Breaker({ name: 'svc', clock, initialState: b.toJSON() });
    expect(restored.state).toBe('HALF_OPEN');
    expect(await restored.execute(async () => 'probe')).toBe('probe');
    expect(restored.state).toBe('CLOSED');
  });
});

describe('Breaker: dispose', () => {
  it('rejects new calls with BreakerDisposedError; in-flight calls finish and are counted', async () => {
    const { b } = make();
    const d = deferred<string>();
    const inFlight = b.execute(() => d.promise);
    b.dispose();
    b.dispose();
    expect(b.isDisposed).toBe(true);
    await expect(b.execute(async () => 1)).rejects.toBeInstanceOf(BreakerDisposedError);
    expect(() => b.executeSync(() => 1)).toThrow(BreakerDisposedError);
    expect(() => b.acquire()).toThrow(BreakerDisposedError);
    expect(() => b.reset()).toThrow('Circuit breaker "svc" has been disposed');
    d.resolve('finished');
    expect(await inFlight).toBe('finished');
    expect(b.stats()).toMatchObject({ calls: 1, successes: 1, inFlight: 0 });
  });

  it('turns away calls waiting in the bulkhead queue and for a half-open verdict, and clears their timers', async () => {
    const { b, clock } = make({
      maxConcurrent: 1,
      maxQueue: 3,
      failureThreshold: 1,
      halfOpenWaitTimeout: 10_000,
    });
    await failTimes(b, 1);
    clock.advance(1_000);
    const probe = deferred<number>();
    const running = outcome(b.execute(() => probe.promise));
    const queued = outcome(b.execute(async () => 1));
    await flush();
    b.dispose();
    const r = await queued;
    expect(!r.ok && isBreakerDisposedError(r.error)).toBe(true);
    probe.resolve(1);
    expect(await running).toEqual({ ok: true, value: 1 });
    expect(clock.pendingTimers).toBe(0);

    const waiting = make({ failureThreshold: 1, halfOpenWaitTimeout: 10_000 });
    await failTimes(waiting.b, 1);
    waiting.clock.advance(1_000);
    const probe2 = deferred<number>();
    const p2 = outcome(waiting.b.execute(() => probe2.promise));
    const waiter = outcome(waiting.b.execute(async () => 2));
    await flush();
    expect(waiting.clock.pendingTimers).toBe(1);
    waiting.b.dispose();
    const w = await waiter;
    expect(!w.ok && isBreakerDisposedError(w.error)).toBe(true);
    expect(waiting.clock.pendingTimers).toBe(0);
    probe2.resolve(0);
    await p2;
  });

  it('removes listeners: events of calls that finish after dispose reach nobody', async () => {
    const { b } = make();
    const heard: StateChangeEvent[] = [];
    const successes: unknown[] = [];
    b.onStateChange((e) => heard.push(e));
    b.onSuccess((e) => successes.push(e));
    const d = deferred<number>();
    const p = b.execute(() => d.promise);
    b.dispose();
    d.resolve(1);
    await p;
    expect(successes).toEqual([]);
  });

  it('releases its circuit in a shared store', () => {
    const store = new InMemoryStore();
    const b = new Breaker({ name: 'shared', store });
    expect(store.names()).toEqual(['shared']);
    b.dispose();
    expect(store.names()).toEqual([]);
  });
});

describe('Breaker: misuse', () => {
  it('execute with something that is not a function rejects with a TypeError naming the breaker', async () => {
    const { b } = make();
    await expect(b.execute(42 as never)).rejects.toThrow(
      'Circuit breaker "svc": execute expects a function, received 42 (number)',
    );
    expect(b.stats().calls).toBe(0);
  });

  it('a function returning a thenable is handled like a promise; one that never settles stays in flight', async () => {
    const { b } = make();
    const thenable = { then: (resolve: (v: number) => void) => resolve(9) };
    expect(await b.execute(() => thenable as unknown as Promise<number>)).toBe(9);
    void b.execute(() => new Promise(() => undefined));
    await flush();
    expect(b.stats().inFlight).toBe(1);
  });

  it('a listener must be a function', () => {
    const { b } = make();
    expect(() => b.onOpen('nope' as never)).toThrow(TypeError);
  });
});
