/**
 * Hostile input through the Nest layer (the engine's own cases are in test/core/hostile-input).
 * For each case: the caller (and the HTTP client) gets a clear answer, counters add up
 * (`calls = successes + failures + timeouts + ignored + rejections`), the breaker still trips and
 * recovers afterwards, and nothing reaches the process.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { type INestApplication, Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { filter, firstValueFrom, isObservable, map, type Observable } from 'rxjs';
import request from 'supertest';
import {
  type BreakerStats,
  CircuitBreakerModule,
  type CircuitBreakerEvent,
  CircuitBreakerRegistry,
  CircuitOpenError,
  getCircuitBreakerToken,
  InjectCircuitBreaker,
  type Breaker,
  ManualClock,
} from '../../lib/index.js';
import { adapterFor, initApp, PLATFORMS, type Platform } from './fixture/app.factory.js';
import { OPEN_MS, THRESHOLD } from './fixture/app.module.js';
import { Dependency } from './fixture/dependency.js';
import {
  createHostileModule,
  HostileService,
  ListenedService,
  type Reported,
  StreamBroken,
} from './fixture/hostile.js';

function expectAddsUp(stats: BreakerStats): void {
  const { calls, successes, failures, timeouts, ignored, rejections } = stats;
  expect({ calls, inFlight: stats.inFlight }).toEqual({
    calls: successes + failures + timeouts + ignored + rejections,
    inFlight: 0,
  });
}

/** Turns of the event loop's timer phase: where rxjs would rethrow a subscriber's error. */
async function timerTurns(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setTimeout(resolve, 0));
}

/** Every notification of one subscription, in order, once it has ended. */
function notifications(source: Observable<unknown>): Promise<unknown[]> {
  return new Promise((resolve) => {
    const seen: unknown[] = [];
    source.subscribe({
      next: (value) => seen.push(value),
      error: (error: unknown) => resolve([...seen, error]),
      complete: () => resolve([...seen, 'complete']),
    });
  });
}

describe.each(PLATFORMS)('hostile input over HTTP on %s', (platform: Platform) => {
  let app: INestApplication | undefined;
  let clock: ManualClock;
  let dependency: Dependency;
  let registry: CircuitBreakerRegistry;
  let hostile: HostileService;
  let reported: Reported;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(): Promise<void> {
    clock = new ManualClock(1_000_000);
    reported = [];
    const moduleRef = await Test.createTestingModule({
      imports: [createHostileModule(clock, reported)],
    }).compile();
    app = await initApp(
      moduleRef.createNestApplication(adapterFor(platform), { logger: false }),
      platform,
    );
    dependency = app.get(Dependency);
    registry = app.get(CircuitBreakerRegistry);
    hostile = app.get(HostileService);
  }

  const http = () => request(app!.getHttpServer());

  /**
   * The breaker behind `path` still does its job: `THRESHOLD` failures open it, an open circuit
   * answers 503 (without reaching the dependency, unless the method calls it before returning its
   * Observable: that part runs when the method is called, only the subscription is guarded), and
   * after the open period one healthy probe closes it again.
   */
  async function tripsAndRecovers(
    path: string,
    breaker: string,
    { probeStatus = 200, eager = false }: { probeStatus?: number; eager?: boolean } = {},
  ): Promise<void> {
    dependency.healthy = false;
    for (let i = 0; i < THRESHOLD; i++) await http().get(path).expect(500);
    expect(registry.get(breaker).state).toBe('OPEN');
    const reached = dependency.calls;
    const refused = await http().get(path).expect(503);
    expect(refused.headers['retry-after']).toBe(String(OPEN_MS / 1_000));
    expect(dependency.calls).toBe(eager ? reached + 1 : reached);
    dependency.healthy = true;
    clock.advance(OPEN_MS);
    await http().get(path).expect(probeStatus);
    expect(registry.get(breaker).state).toBe('CLOSED');
    expectAddsUp(registry.get(breaker).stats());
  }

  describe('Observables', () => {
    it('an error after the first value reaches the subscriber but is not counted again: the first value already settled the call as a success', async () => {
      await start();
      const seen = await notifications(hostile.stream('a'));
      expect(seen).toEqual(['stream:a', new StreamBroken('a')]);
      expect(seen[1]).toBeInstanceOf(StreamBroken);
      expect(registry.get('stream').stats()).toMatchObject({
        calls: 1,
        successes: 1,
        failures: 0,
        ignored: 0,
      });

      // Over HTTP Nest waits for the last value, so the client sees the error; the dependency
      // answered, so the breaker counts a success all the same.
      await http().get('/hostile/stream/b').expect(500);
      expect(registry.get('stream').stats()).toMatchObject({ calls: 2, successes: 2 });
      expectAddsUp(registry.get('stream').stats());

      // An error before the first value is a failure: the breaker trips, and a probe whose
      // stream breaks after its first value still closes it.
      await tripsAndRecovers('/hostile/stream/c', 'stream', { probeStatus: 500 });
      expect(registry.get('stream').stats()).toMatchObject({
        successes: 3,
        failures: THRESHOLD,
        rejections: 1,
      });
    });

    it('an Observable whose subscribe function throws: the subscriber gets the error, counted as a failure', async () => {
      await start();
      dependency.healthy = false;
      const seen = await notifications(hostile.subscribeThrows('a'));
      expect(seen).toEqual([new Error('dependency down (subscribe:a)')]);
      expect(registry.get('subscribe-throws').stats()).toMatchObject({ calls: 1, failures: 1 });
      dependency.healthy = true;
      expect((await http().get('/hostile/subscribe-throws/b').expect(200)).text).toBe(
        'subscribe:b',
      );
      await tripsAndRecovers('/hostile/subscribe-throws/c', 'subscribe-throws');
    });
  });

  describe('a decorated method that throws before returning anything', () => {
    it('sync: throws synchronously, counted as a failure; trips and recovers', async () => {
      await start();
      dependency.healthy = false;
      expect(() => hostile.throwsSync('a')).toThrow('dependency down (sync:a)');
      expect(registry.get('throws-sync').stats()).toMatchObject({ calls: 1, failures: 1 });
      registry.get('throws-sync').reset();
      await tripsAndRecovers('/hostile/throws/sync/b', 'throws-sync');
    });

    it('Promise (not async): returns a rejected promise instead of throwing, counted as a failure; trips and recovers', async () => {
      await start();
      dependency.healthy = false;
      let returned: Promise<string> | undefined;
      expect(() => (returned = hostile.throwsPromise('a'))).not.toThrow();
      expect(returned).toBeInstanceOf(Promise);
      await expect(returned).rejects.toThrow('dependency down (promise:a)');
      expect(registry.get('throws-promise').stats()).toMatchObject({ calls: 1, failures: 1 });
      registry.get('throws-promise').reset();
      await tripsAndRecovers('/hostile/throws/promise/b', 'throws-promise');
    });

    it('Observable: returns an Observable that errors, counted per subscription as a failure (bug fix); trips and recovers', async () => {
      await start();
      dependency.healthy = false;
      let returned: Observable<string> | undefined;
      expect(() => (returned = hostile.throwsObservable('a'))).not.toThrow();
      expect(isObservable(returned)).toBe(true);
      await expect(firstValueFrom(returned!)).rejects.toThrow('dependency down (observable:a)');
      expect(registry.get('throws-observable').stats()).toMatchObject({ calls: 1, failures: 1 });
      registry.get('throws-observable').reset();
      // The method body ran (it is called eagerly, as undecorated) but the subscription is refused.
      await tripsAndRecovers('/hostile/throws/observable/b', 'throws-observable', { eager: true });
    });
  });

  describe('fallbacks that throw', () => {
    // Every fallback answer counts in `stats().fallbacks`, whichever layer ran it (the engine for
    // Promise and sync methods, the Nest layer per subscription for Observables).
    it.each([
      [
        'a method-name fallback of a Promise method',
        '/hostile/fallback/method',
        'fallback-method',
        true,
      ],
      [
        'a method-name fallback of an Observable method',
        '/hostile/fallback/stream',
        'fallback-stream',
        true,
      ],
      [
        'a function fallback of a sync method',
        '/hostile/fallback/function',
        'fallback-function',
        true,
      ],
      [
        'a function fallback returning a rejected promise',
        '/hostile/fallback/rejects',
        'fallback-rejects',
        true,
      ],
    ])(
      '%s: the client gets the fallback’s error for failures and refusals; counters add up; trips and recovers',
      async (_title, path, name) => {
        await start();
        dependency.healthy = false;
        for (let i = 0; i < THRESHOLD; i++) {
          const failed = await http().get(`${path}/${i}`).expect(502);
          expect(failed.body.message).toBe(`fallback for ${i} failed after Error`);
        }
        const breaker = registry.get(name);
        expect(breaker.state).toBe('OPEN');
        const reached = dependency.calls;
        const refused = await http().get(`${path}/r`).expect(502);
        expect(refused.body.message).toBe('fallback for r failed after CircuitOpenError');
        expect(refused.headers['retry-after']).toBeUndefined();
        expect(dependency.calls).toBe(reached);
        expect(breaker.stats()).toMatchObject({
          calls: THRESHOLD + 1,
          failures: THRESHOLD,
          rejections: 1,
        });
        expect(breaker.stats().fallbacks).toBe(THRESHOLD + 1);
        expectAddsUp(breaker.stats());

        dependency.healthy = true;
        clock.advance(OPEN_MS);
        await http().get(`${path}/ok`).expect(200);
        expect(breaker.state).toBe('CLOSED');
        expectAddsUp(breaker.stats());
        expect(reported).toEqual([]);
      },
    );
  });

  describe('listeners that throw', () => {
    it('engine listeners on an injected breaker: each error is reported to onCallbackError, every request is answered, the breaker trips and recovers', async () => {
      await start();
      const listened = app!.get(ListenedService);
      expect(listened.breaker).toBe(registry.get('listened'));
      await http().get('/hostile/listened/a').expect(200, { value: 'listened:a' });
      await tripsAndRecovers('/hostile/listened/b', 'listened');
      expect(listened.ran).toEqual({
        success: 2,
        failure: THRESHOLD,
        rejection: 1,
        open: 1,
        // CLOSED -> OPEN -> HALF_OPEN -> CLOSED
        stateChange: 3,
      });
      const total = Object.values(listened.ran).reduce((a, b) => a + b, 0);
      expect(reported).toHaveLength(total);
      expect(reported).toContainEqual(['open listener threw', 'listener', 'listened']);
      expect(
        reported.every(([, source, breaker]) => source === 'listener' && breaker === 'listened'),
      ).toBe(true);
      await timerTurns();
    });

    it('events$ subscribers: reported to onCallbackError with the breaker’s name, other subscribers get every event, every request is answered', async () => {
      await start();
      const seen: CircuitBreakerEvent[] = [];
      registry.events$.subscribe(() => {
        throw new Error('subscriber threw');
      });
      registry.events$
        .pipe(
          filter((e) => e.type === 'stateChange'),
          map((e) => e.breaker),
        )
        .subscribe((name) => {
          throw new Error(`piped subscriber threw on ${name}`);
        });
      registry.events$.subscribe((e) => seen.push(e));

      await tripsAndRecovers('/hostile/throws/sync/a', 'throws-sync');
      await timerTurns();
      const types = seen.map((e) => `${e.breaker}:${e.type}`);
      expect(types).toEqual([
        ...Array<string>(THRESHOLD).fill('throws-sync:failure'),
        'throws-sync:stateChange',
        'throws-sync:rejection',
        'throws-sync:stateChange',
        'throws-sync:success',
        'throws-sync:stateChange',
      ]);
      expect(reported.filter(([m]) => m === 'subscriber threw')).toHaveLength(seen.length);
      expect(reported.filter(([m]) => m.startsWith('piped'))).toEqual(
        Array(3).fill(['piped subscriber threw on throws-sync', 'listener', 'throws-sync']),
      );
      expect(
        reported.every(([, source, breaker]) => source === 'listener' && breaker === 'throws-sync'),
      ).toBe(true);
    });
  });
});

describe('hostile input without HTTP', () => {
  let moduleRef: TestingModule | undefined;

  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
  });

  it('an Observable that never emits, unsubscribed by its caller, is neither a success nor a failure (counted as ignored) and frees its HALF_OPEN probe slot', async () => {
    const clock = new ManualClock();
    moduleRef = await Test.createTestingModule({
      imports: [createHostileModule(clock, [])],
    }).compile();
    await moduleRef.init();
    const hostile = moduleRef.get(HostileService);
    const dependency = moduleRef.get(Dependency);
    const breaker = moduleRef.get(CircuitBreakerRegistry).get('hanging');

    const closed = hostile.hanging('hang').subscribe();
    expect(breaker.stats()).toMatchObject({ inFlight: 1, calls: 0 });
    closed.unsubscribe();
    expect(hostile.unsubscribed).toBe(1);
    expect(breaker.stats()).toMatchObject({
      inFlight: 0,
      calls: 1,
      ignored: 1,
      successes: 0,
      failures: 0,
    });

    dependency.healthy = false;
    for (let i = 0; i < THRESHOLD; i++) {
      await expect(firstValueFrom(hostile.hanging('call'))).rejects.toThrow('dependency down');
    }
    clock.advance(OPEN_MS);
    expect(breaker.state).toBe('HALF_OPEN');
    const probe = hostile.hanging('hang').subscribe();
    const refused = await notifications(hostile.hanging('call'));
    expect(refused[0]).toBeInstanceOf(CircuitOpenError);
    expect((refused[0] as CircuitOpenError).reason).toBe('half-open');

    probe.unsubscribe();
    expect(breaker.state).toBe('HALF_OPEN');
    expect(breaker.stats()).toMatchObject({ ignored: 2, failures: THRESHOLD, successes: 0 });
    dependency.healthy = true;
    expect(await firstValueFrom(hostile.hanging('call'))).toBe('hanging');
    expect(breaker.state).toBe('CLOSED');
    expectAddsUp(breaker.stats());
  });
});

describe('duplicate breaker names across modules', () => {
  const moduleRefs: TestingModule[] = [];

  afterEach(async () => {
    for (const ref of moduleRefs.splice(0)) await ref.close();
  });

  @Injectable()
  class PaymentsUser {
    constructor(@InjectCircuitBreaker('payments') readonly breaker: Breaker) {}
  }

  /** A feature module named `name` declaring breaker "payments" with `options`. */
  function feature(name: string, options: Record<string, unknown>, provider = false) {
    @Module({
      imports: [CircuitBreakerModule.forFeature([{ name: 'payments', ...options }])],
      providers: provider ? [PaymentsUser] : [],
      exports: provider ? [PaymentsUser] : [],
    })
    class FeatureModule {}
    Object.defineProperty(FeatureModule, 'name', { value: name });
    return FeatureModule;
  }

  async function boot(imports: unknown[]): Promise<TestingModule> {
    const ref = await Test.createTestingModule({ imports: imports as never[] }).compile();
    return ref.init();
  }

  it('two forFeature modules with different options fail the bootstrap, naming the breaker, the option and both declarations', async () => {
    await expect(
      boot([
        CircuitBreakerModule.forRoot(),
        feature('PaymentsModule', { timeout: 1_000 }),
        feature('BillingModule', { timeout: 2_000, openDuration: 5_000 }),
      ]),
    ).rejects.toThrow(
      'Circuit breaker "payments": option "timeout" must be the same in every declaration of the breaker, received 1000 (number) in CircuitBreakerModule.forFeature(["payments"]) imported by PaymentsModule and 2000 (number) in CircuitBreakerModule.forFeature(["payments"]) imported by BillingModule (they also differ on openDuration). Declare its options in one place and list it by name elsewhere, or share them with extends',
    );
  });

  it('forRoot({ breakers }) and a forFeature with different options fail the bootstrap the same way', async () => {
    await expect(
      boot([
        CircuitBreakerModule.forRoot({ breakers: { payments: { failureThreshold: 3 } } }),
        feature('BillingModule', { failureThreshold: 4 }),
      ]),
    ).rejects.toThrow(
      'Circuit breaker "payments": option "failureThreshold" must be the same in every declaration of the breaker, received 3 (number) in CircuitBreakerModule.forRoot({ breakers }) and 4 (number) in CircuitBreakerModule.forFeature(["payments"]) imported by BillingModule',
    );
  });

  it('identical declarations (forRoot and two forFeature modules) are one breaker, injected everywhere', async () => {
    moduleRefs.push(
      await boot([
        CircuitBreakerModule.forRoot({
          defaults: { clock: new ManualClock() },
          breakers: { payments: { timeout: 1_000, failureThreshold: 3 } },
        }),
        feature('PaymentsModule', { failureThreshold: 3, timeout: 1_000 }, true),
        feature('BillingModule', { timeout: 1_000, failureThreshold: 3 }),
      ]),
    );
    const ref = moduleRefs[0]!;
    const breaker = ref.get(CircuitBreakerRegistry).get('payments');
    expect(ref.get(PaymentsUser).breaker).toBe(breaker);
    expect(ref.get(getCircuitBreakerToken('payments'), { strict: false })).toBe(breaker);
    expect(breaker.options.timeout).toBe(1_000);
    expect(breaker.options.circuit.policy).toEqual({ kind: 'consecutive', failureThreshold: 3 });
  });
});
