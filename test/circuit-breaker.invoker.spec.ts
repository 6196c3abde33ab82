import { describe, expect, it } from '@jest/globals';
import { defer, firstValueFrom, Observable, of, Subject, throwError } from 'rxjs';
import {
  type BoundFallback,
  guardObservable,
  invokeObservable,
  invokePromise,
  invokeSync,
  invokeUnknown,
  type ReturnShape,
  shapeOfReturnType,
} from '../lib/circuit-breaker.invoker.js';
import {
  Breaker,
  type BreakerOptions,
  CallTimeoutError,
  isCircuitOpenError,
  ManualClock,
} from '../lib/core/index.js';

function breaker(options: Partial<BreakerOptions> = {}): Breaker {
  return new Breaker({ name: 'b', clock: new ManualClock(), failureThreshold: 2, ...options });
}

function open(b: Breaker): void {
  b.isolate();
}

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}

describe('shapeOfReturnType', () => {
  class Plain {}
  class Thenable {
    then(): void {}
  }
  it.each<[string, unknown, ReturnShape | undefined]>([
    ['Promise', Promise, 'promise'],
    ['a thenable class', Thenable, 'promise'],
    ['Observable', Observable, 'observable'],
    ['Subject (an Observable subclass)', Subject, 'observable'],
    ['Number', Number, 'sync'],
    ['a plain class', Plain, 'sync'],
    ['Object (interfaces, unions)', Object, undefined],
    ['undefined (void, unannotated)', undefined, undefined],
  ])('%s', (_title, type, shape) => {
    expect(shapeOfReturnType(type)).toBe(shape);
  });
});

describe('guardObservable', () => {
  it('counts the first value as a success, while the subscription is still open', () => {
    const b = breaker();
    const source = new Subject<number>();
    const seen: number[] = [];
    const subscription = guardObservable(b, source).subscribe((v) => seen.push(v));
    expect(b.stats().inFlight).toBe(1);
    source.next(1);
    source.next(2);
    expect(seen).toEqual([1, 2]);
    expect(b.stats()).toMatchObject({ successes: 1, calls: 1, inFlight: 0 });
    subscription.unsubscribe();
    expect(b.stats()).toMatchObject({ successes: 1, calls: 1, ignored: 0 });
  });

  it('counts completion without a value as a success and an error as a failure', () => {
    const b = breaker();
    guardObservable(b, of()).subscribe();
    guardObservable(
      b,
      throwError(() => new Error('x')),
    ).subscribe({ error: () => undefined });
    expect(b.stats()).toMatchObject({ successes: 1, failures: 1 });
  });

  it('counts each subscription: one Observable subscribed twice fails twice and opens', () => {
    const b = breaker();
    let runs = 0;
    const guarded = guardObservable(
      b,
      defer(() => {
        runs++;
        return throwError(() => new Error('down'));
      }),
    );
    guarded.subscribe({ error: () => undefined });
    guarded.subscribe({ error: () => undefined });
    expect(runs).toBe(2);
    expect(b.state).toBe('OPEN');
    let refused: unknown;
    guarded.subscribe({ error: (e: unknown) => (refused = e) });
    expect(runs).toBe(2);
    expect(isCircuitOpenError(refused)).toBe(true);
  });

  it('unsubscribing before any value is neither success nor failure, and frees the probe slot', () => {
    const clock = new ManualClock();
    const b = new Breaker({ name: 'b', clock, failureThreshold: 1, openDuration: 100 });
    guardObservable(
      b,
      throwError(() => new Error('down')),
    ).subscribe({ error: () => undefined });
    clock.advance(100);
    expect(b.state).toBe('HALF_OPEN');
    const probe = guardObservable(b, new Subject<number>()).subscribe();
    let refused: unknown;
    guardObservable(b, of(1)).subscribe({ error: (e: unknown) => (refused = e) });
    expect(isCircuitOpenError(refused)).toBe(true);
    probe.unsubscribe();
    expect(b.stats()).toMatchObject({ failures: 1, ignored: 1, successes: 0 });
    expect(b.state).toBe('HALF_OPEN');
    const values: number[] = [];
    guardObservable(b, of(5)).subscribe((v) => values.push(v));
    expect(values).toEqual([5]);
    expect(b.state).toBe('CLOSED');
  });

  it('answers a refused subscription with the fallback, as an Observable', async () => {
    const b = breaker();
    open(b);
    const fallback: BoundFallback = (error) =>
      Promise.resolve(`fallback:${String(isCircuitOpenError(error))}`);
    expect(await firstValueFrom(guardObservable(b, of('live'), fallback))).toBe('fallback:true');
  });

  it('uses the fallback for failures too, unless fallbackOnFailure: false', async () => {
    const failing = () => throwError(() => new Error('down'));
    const lenient = breaker();
    expect(await firstValueFrom(guardObservable(lenient, failing(), () => of('fb')))).toBe('fb');
    expect(lenient.stats()).toMatchObject({ failures: 1, fallbacks: 1 });
    const strict = breaker({ fallbackOnFailure: false });
    await expect(firstValueFrom(guardObservable(strict, failing(), () => 'fb'))).rejects.toThrow(
      'down',
    );
    expect(strict.stats()).toMatchObject({ failures: 1, fallbacks: 0 });
  });

  it('uses the breaker’s own fallback option when the method has none', async () => {
    const b = breaker({
      fallback: (error: unknown, args: readonly unknown[]) =>
        `${args.join()}:${(error as Error).name}`,
    });
    open(b);
    expect(await firstValueFrom(guardObservable(b, of('live'), undefined, [1, 2]))).toBe(
      '1,2:CircuitOpenError',
    );
  });
});

describe('invokeObservable', () => {
  it('a method that throws before returning its Observable: an Observable that errors, each subscription a failure (bug fix: it used to throw synchronously, uncounted)', async () => {
    const b = breaker();
    let runs = 0;
    const failed = invokeObservable({
      breaker: b,
      run: () => {
        runs++;
        throw new Error('could not build the request');
      },
      args: [],
      fallback: undefined,
    });
    expect(runs).toBe(1);
    await expect(firstValueFrom(failed)).rejects.toThrow('could not build the request');
    await expect(firstValueFrom(failed)).rejects.toThrow('could not build the request');
    expect(b.stats()).toMatchObject({ calls: 2, failures: 2, state: 'OPEN' });
    await expect(firstValueFrom(failed)).rejects.toThrow('Circuit breaker "b" is open');
    expect(b.stats()).toMatchObject({ calls: 3, rejections: 1 });
  });
});

describe('invokeSync / invokePromise', () => {
  it('a refused synchronous call throws synchronously', () => {
    const b = breaker();
    open(b);
    const error = errorOf(() =>
      invokeSync({ breaker: b, run: () => 1, args: [], fallback: undefined }),
    );
    expect(isCircuitOpenError(error)).toBe(true);
  });

  it('a refused Promise call rejects (never throws) and can fall back', async () => {
    const b = breaker();
    open(b);
    const call = { breaker: b, run: () => Promise.resolve(1), args: [] };
    const pending = invokePromise({ ...call, fallback: undefined });
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).rejects.toThrow('isolated');
    expect(await invokePromise({ ...call, fallback: () => 2 })).toBe(2);
  });
});

describe('invokeUnknown', () => {
  function call(b: Breaker, run: () => unknown, fallback?: BoundFallback) {
    return { breaker: b, run, args: [] as unknown[], fallback };
  }

  it('returns a plain value synchronously and counts a success', () => {
    const b = breaker();
    const shapes: ReturnShape[] = [];
    expect(
      invokeUnknown(
        call(b, () => 7),
        undefined,
        (s) => shapes.push(s),
      ),
    ).toBe(7);
    expect(shapes).toEqual(['sync']);
    expect(b.stats().successes).toBe(1);
  });

  it('applies the timeout to a returned promise: one timeout, the late outcome not counted again', async () => {
    const clock = new ManualClock();
    const b = breaker({ clock, timeout: 100, fallbackOnFailure: false });
    let resolve!: (v: number) => void;
    const result = invokeUnknown(
      call(b, () => new Promise<number>((r) => (resolve = r))),
      undefined,
      () => undefined,
    ) as Promise<number>;
    const settled = result.catch((e: unknown) => e);
    clock.advance(99);
    expect(b.stats()).toMatchObject({ inFlight: 1, timeouts: 0 });
    clock.advance(1);
    expect(await settled).toBeInstanceOf(CallTimeoutError);
    resolve(1);
    await Promise.resolve();
    expect(b.stats()).toMatchObject({ calls: 1, timeouts: 1, successes: 0, inFlight: 0 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('a timely promise clears its timer; a timed-out one is answered by the fallback by default', async () => {
    const clock = new ManualClock();
    const b = breaker({ clock, timeout: 100 });
    expect(
      await (invokeUnknown(
        call(b, async () => 5),
        undefined,
        () => undefined,
      ) as Promise<number>),
    ).toBe(5);
    expect(clock.pendingTimers).toBe(0);
    const answered = invokeUnknown(
      call(
        b,
        () => new Promise(() => undefined),
        (e) => `fb:${(e as Error).name}`,
      ),
      undefined,
      () => undefined,
    );
    clock.advance(100);
    expect(await answered).toBe('fb:CallTimeoutError');
    expect(b.stats()).toMatchObject({ successes: 1, timeouts: 1, fallbacks: 1 });
  });

  it('tracks a returned promise until it settles', async () => {
    const b = breaker();
    const shapes: ReturnShape[] = [];
    let resolve!: (v: number) => void;
    const result = invokeUnknown(
      call(b, () => new Promise<number>((r) => (resolve = r))),
      undefined,
      (s) => shapes.push(s),
    );
    expect(result).toBeInstanceOf(Promise);
    expect(b.stats().inFlight).toBe(1);
    resolve(3);
    expect(await result).toBe(3);
    expect(shapes).toEqual(['promise']);
    expect(b.stats()).toMatchObject({ successes: 1, inFlight: 0 });
  });

  it('counts a thrown error and a rejection as failures', async () => {
    const b = breaker({ failureThreshold: 5 });
    expect(() =>
      invokeUnknown(
        call(b, () => {
          throw new Error('sync');
        }),
        undefined,
        () => undefined,
      ),
    ).toThrow('sync');
    await expect(
      invokeUnknown(
        call(b, () => Promise.reject(new Error('async'))),
        undefined,
        () => undefined,
      ),
    ).rejects.toThrow('async');
    expect(b.stats().failures).toBe(2);
  });

  it('guards a returned Observable per subscription (the call itself counts as ignored)', () => {
    const b = breaker();
    const shapes: ReturnShape[] = [];
    const result = invokeUnknown(
      call(b, () => of(1)),
      undefined,
      (s) => shapes.push(s),
    );
    expect(shapes).toEqual(['observable']);
    expect(b.stats()).toMatchObject({ ignored: 1, successes: 0 });
    (result as Observable<number>).subscribe();
    expect(b.stats()).toMatchObject({ ignored: 1, successes: 1 });
  });

  it('a refused call throws synchronously, or rejects once the method is known to return promises', async () => {
    const b = breaker();
    open(b);
    expect(
      isCircuitOpenError(
        errorOf(() =>
          invokeUnknown(
            call(b, () => 1),
            undefined,
            () => undefined,
          ),
        ),
      ),
    ).toBe(true);
    const rejected = invokeUnknown(
      call(b, () => 1),
      'promise',
      () => undefined,
    );
    expect(rejected).toBeInstanceOf(Promise);
    await expect(rejected).rejects.toThrow('isolated');
    expect(
      await invokeUnknown(
        call(
          b,
          () => 1,
          () => 'fb',
        ),
        'promise',
        () => undefined,
      ),
    ).toBe('fb');
    expect(
      invokeUnknown(
        call(
          b,
          () => 1,
          () => 'fb',
        ),
        undefined,
        () => undefined,
      ),
    ).toBe('fb');
  });
});

describe('fallbacks outside execute are counted', () => {
  it('an Observable refused and answered by a fallback counts one fallback', async () => {
    const b = breaker();
    open(b);
    const fallback: BoundFallback = () => of('cached');
    expect(await firstValueFrom(guardObservable(b, of('live'), fallback))).toBe('cached');
    expect(b.stats()).toMatchObject({ rejections: 1, fallbacks: 1 });
  });

  it("an Observable refused and answered by the breaker's own fallback option counts one fallback", async () => {
    const b = breaker({ fallback: 'from options' });
    open(b);
    expect(await firstValueFrom(guardObservable(b, of('live')))).toBe('from options');
    expect(b.stats().fallbacks).toBe(1);
  });

  it('a call of unknown shape refused and answered by a fallback counts one fallback', () => {
    const b = breaker();
    open(b);
    const result = invokeUnknown(
      { breaker: b, args: [], run: () => 'live', fallback: () => 'cached' },
      undefined,
      () => undefined,
    );
    expect(result).toBe('cached');
    expect(b.stats().fallbacks).toBe(1);
  });
});
