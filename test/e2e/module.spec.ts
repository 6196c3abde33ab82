import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplication, Module, type ModuleMetadata } from '@nestjs/common';
import { ContextIdFactory } from '@nestjs/core';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { defer, firstValueFrom, isObservable, type Observable, of, throwError } from 'rxjs';
import {
  type Breaker,
  CircuitBreaker,
  CircuitBreakerModule,
  CircuitOpenError,
  getCircuitBreakerToken,
  InjectCircuitBreaker,
  type CircuitBreakerModuleOptions,
  type CircuitBreakerOptionsFactory,
  CircuitBreakerRegistry,
  ManualClock,
} from '../../lib/index.js';
import { adapterFor, initApp, PLATFORMS, type Platform } from './fixture/app.factory.js';
import {
  AppConfig,
  AppConfigModule,
  EagerCaller,
  PaymentsClient,
  PaymentsModule,
  PerRequestClient,
  ScheduledJobs,
  ShippingClient,
  ShippingModule,
} from './fixture/features.js';

describe.each(PLATFORMS)('CircuitBreakerModule on %s', (platform: Platform) => {
  const apps: INestApplication[] = [];

  afterEach(async () => {
    PerRequestClient.failing = false;
    for (const app of apps.splice(0)) await app.close();
  });

  async function boot(metadata: ModuleMetadata): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule(metadata).compile();
    const app = moduleRef.createNestApplication(adapterFor(platform), { logger: false });
    apps.push(app);
    return initApp(app, platform);
  }

  const strict = { configs: { strict: { failureThreshold: 2 } } };

  describe('forFeature', () => {
    it('feature modules declare their own breakers, which join the one registry', async () => {
      const clock = new ManualClock();
      const app = await boot({
        imports: [
          CircuitBreakerModule.forRoot({ defaults: { clock, openDuration: 5_000 }, ...strict }),
          PaymentsModule,
          ShippingModule,
        ],
      });
      const registry = app.get(CircuitBreakerRegistry);
      expect(registry.names()).toEqual(expect.arrayContaining(['payments', 'shipping']));

      const payments = app.get(PaymentsClient).breaker;
      expect(payments).toBe(registry.get('payments'));
      const { circuit, timeout } = payments.options;
      expect(circuit.policy).toEqual({ kind: 'consecutive', failureThreshold: 2 });
      expect(circuit.openDuration).toBe(5_000);
      expect(timeout).toBe(2_000);

      const shipping = app.get(ShippingClient).breaker;
      expect(shipping.options.circuit.openDuration).toBe(1_234);
      expect(shipping.options.circuit.policy).toEqual({ kind: 'consecutive', failureThreshold: 5 });

      // The decorated method uses the injected breaker.
      const client = app.get(PaymentsClient);
      client.failing = true;
      for (let i = 0; i < 2; i++) await expect(client.charge(1)).rejects.toThrow('payments down');
      expect(payments.state).toBe('OPEN');
    });
  });

  describe('forRootAsync', () => {
    it('takes its options from a config service through useFactory', async () => {
      const clock = new ManualClock();
      const app = await boot({
        imports: [
          CircuitBreakerModule.forRootAsync({
            imports: [AppConfigModule],
            inject: [AppConfig],
            useFactory: (config: AppConfig) => ({
              defaults: {
                clock,
                failureThreshold: config.get('threshold'),
                openDuration: config.get('openMs'),
              },
              ...strict,
            }),
          }),
          PaymentsModule,
        ],
      });
      const registry = app.get(CircuitBreakerRegistry);
      expect(registry.get('payments').options.circuit).toMatchObject({
        openDuration: 4_000,
        policy: { failureThreshold: 2 },
      });
      expect(registry.getOrCreate('other').options.circuit.policy).toEqual({
        kind: 'consecutive',
        failureThreshold: 3,
      });
    });

    it('takes its options from a class through useClass', async () => {
      @Injectable()
      class BreakerConfig implements CircuitBreakerOptionsFactory {
        constructor(private readonly config: AppConfig) {}
        createCircuitBreakerOptions(): CircuitBreakerModuleOptions {
          return { breakers: { api: { openDuration: this.config.get('openMs') * 2 } } };
        }
      }
      const app = await boot({
        imports: [
          CircuitBreakerModule.forRootAsync({
            imports: [AppConfigModule],
            useClass: BreakerConfig,
          }),
        ],
      });
      expect(app.get(CircuitBreakerRegistry).get('api').options.circuit.openDuration).toBe(8_000);
    });
  });

  describe('invalid configuration fails the bootstrap with a message naming breaker and option', () => {
    const cases: Array<[string, () => ModuleMetadata, string]> = [
      [
        'a typo in a breaker option',
        () => ({
          imports: [
            CircuitBreakerModule.forRoot({
              breakers: { payments: { failureTreshold: 3 } as never },
            }),
          ],
        }),
        'Circuit breaker "payments": option "failureTreshold" must be a known option (did you mean "failureThreshold"?)',
      ],
      [
        'an unknown extends',
        () => ({
          imports: [
            CircuitBreakerModule.forRoot({
              ...strict,
              breakers: { payments: { extends: 'strcit' } },
            }),
          ],
        }),
        'Circuit breaker "payments": option "extends" must be the name of a configuration in forRoot({ configs }): "strict" (did you mean "strict"?), received "strcit" (string)',
      ],
      [
        'a typo in a module option',
        () => ({ imports: [CircuitBreakerModule.forRoot({ default: {} } as never)] }),
        'CircuitBreakerModule: option "default" must be a known module option (defaults, configs, breakers, autoCreate) (did you mean "defaults"?)',
      ],
      [
        'a typo in a configuration',
        () => ({
          imports: [
            CircuitBreakerModule.forRoot({ configs: { strict: { opneDuration: 1 } as never } }),
          ],
        }),
        'CircuitBreakerModule: option "configs.strict.opneDuration" must be a known option (did you mean "openDuration"?)',
      ],
      [
        'an invalid value in defaults, with no breaker declared at all',
        () => ({ imports: [CircuitBreakerModule.forRoot({ defaults: { failureThreshold: -1 } })] }),
        'CircuitBreakerModule: option "defaults.failureThreshold" must be an integer >= 1, received -1 (number)',
      ],
      [
        'an invalid value in defaults, with a breaker declared: defaults is blamed, not the breaker',
        () => ({
          imports: [
            CircuitBreakerModule.forRoot({
              defaults: { failureThreshold: -1 },
              breakers: { payments: { timeout: 1_000 } },
            }),
          ],
        }),
        'CircuitBreakerModule: option "defaults.failureThreshold" must be an integer >= 1, received -1 (number)',
      ],
      [
        'an invalid value in forRootAsync defaults',
        () => ({
          imports: [
            CircuitBreakerModule.forRootAsync({
              useFactory: () => ({ defaults: { openDuration: Number.NaN } }),
            }),
          ],
        }),
        'CircuitBreakerModule: option "defaults.openDuration" must be a finite number of milliseconds > 0',
      ],
      [
        'an invalid value in a configuration nobody extends',
        () => ({
          imports: [
            CircuitBreakerModule.forRoot({ configs: { lenient: { failureRateThreshold: 50 } } }),
          ],
        }),
        'CircuitBreakerModule: option "configs.lenient.failureRateThreshold" must be a fraction in (0, 1] (a rate is a fraction: use 0.5 for 50%), received 50 (number)',
      ],
      [
        'an invalid nested value in a configuration',
        () => ({
          imports: [
            CircuitBreakerModule.forRoot({ configs: { slow: { backoff: { jitter: 2 } } } }),
          ],
        }),
        'CircuitBreakerModule: option "configs.slow.backoff.jitter" must be a fraction in [0, 1], received 2 (number)',
      ],
      [
        'two valid layers that disagree: the layer that wrote the value is named',
        () => ({
          imports: [
            CircuitBreakerModule.forRoot({
              defaults: { policy: 'count-window', minimumCalls: 50 },
              configs: { small: { windowSize: 20 } },
              breakers: { search: { extends: 'small' } },
            }),
          ],
        }),
        'Circuit breaker "search": option "minimumCalls" must be an integer between 1 and windowSize (20), or the circuit could never open, received 50 (number) (in CircuitBreakerModule defaults)',
      ],
      [
        'an invalid value in forRoot({ breakers })',
        () => ({
          imports: [CircuitBreakerModule.forRoot({ breakers: { payments: { probeExpiry: 0 } } })],
        }),
        'Circuit breaker "payments": option "probeExpiry" must be a finite number of milliseconds > 0 and <= 9007199254740991, received 0 (number) (in CircuitBreakerModule.forRoot({ breakers }))',
      ],
      [
        'configurations extending each other in a cycle',
        () => ({
          imports: [
            CircuitBreakerModule.forRoot({ configs: { a: { extends: 'b' }, b: { extends: 'a' } } }),
          ],
        }),
        'a configuration that does not lead back to itself (a -> b -> a)',
      ],
      [
        'a feature extending a configuration the root does not have',
        () => ({ imports: [CircuitBreakerModule.forRoot(), PaymentsModule] }),
        'Circuit breaker "payments": option "extends" must be the name of a configuration, but forRoot({ configs }) declares none, received "strict" (string)',
      ],
      [
        'an invalid value in a feature',
        () => ({
          imports: [
            CircuitBreakerModule.forRoot(),
            CircuitBreakerModule.forFeature([{ name: 'search', halfOpenMaxCalls: 0 }]),
          ],
        }),
        'Circuit breaker "search": option "halfOpenMaxCalls" must be an integer >= 1, received 0 (number) (in CircuitBreakerModule.forFeature(["search"]) imported by RootTestModule)',
      ],
      [
        'a breaker declared twice with different options',
        () => ({
          imports: [
            CircuitBreakerModule.forRoot({ breakers: { search: { timeout: 1_000 } } }),
            CircuitBreakerModule.forFeature([{ name: 'search', timeout: 2_000 }]),
          ],
        }),
        'Circuit breaker "search": option "timeout" must be the same in every declaration of the breaker, received 1000 (number) in CircuitBreakerModule.forRoot({ breakers }) and 2000 (number) in CircuitBreakerModule.forFeature(["search"]) imported by RootTestModule',
      ],
    ];

    it.each(cases)('%s', async (_title, metadata, message) => {
      await expect(boot(metadata())).rejects.toThrow(message);
    });

    it('an invalid per-method option, naming the decorated method', async () => {
      @Injectable()
      class BadOptions {
        @CircuitBreaker('bad', { failureThreshold: 0 })
        call(): number {
          return 1;
        }
      }
      await expect(
        boot({ imports: [CircuitBreakerModule.forRoot()], providers: [BadOptions] }),
      ).rejects.toThrow(
        'Circuit breaker "bad": option "failureThreshold" must be an integer >= 1, received 0 (number) (in @CircuitBreaker on BadOptions.call)',
      );
    });

    it('a fallback that is not a method of the class', async () => {
      @Injectable()
      class BadFallback {
        @CircuitBreaker({ fallback: 'cachd' })
        call(): number {
          return 1;
        }
        cached(): number {
          return 0;
        }
      }
      await expect(
        boot({ imports: [CircuitBreakerModule.forRoot()], providers: [BadFallback] }),
      ).rejects.toThrow(
        'Circuit breaker "BadFallback.call": option "fallback" must be the name of a method of BadFallback (did you mean "cached"?) or a function (in @CircuitBreaker on BadFallback.call), received "cachd" (string)',
      );
    });

    it('a fallback naming a method that does not exist, on a named breaker: class, method, breaker and fallback are all named', async () => {
      @Injectable()
      class Prices {
        /** A property, not a method: no fallback either. */
        cache = 0;

        @CircuitBreaker('pricing', { fallback: 'cache' })
        quote(): number {
          return 1;
        }
      }
      await expect(
        boot({ imports: [CircuitBreakerModule.forRoot()], providers: [Prices] }),
      ).rejects.toThrow(
        'Circuit breaker "pricing": option "fallback" must be the name of a method of Prices or a function (in @CircuitBreaker on Prices.quote), received "cache" (string)',
      );
    });

    it('two methods giving one breaker different options', async () => {
      @Injectable()
      class Conflicting {
        @CircuitBreaker('shared', { timeout: 1_000 })
        a(): number {
          return 1;
        }
        @CircuitBreaker('shared', { timeout: 2_000 })
        b(): number {
          return 2;
        }
      }
      await expect(
        boot({ imports: [CircuitBreakerModule.forRoot()], providers: [Conflicting] }),
      ).rejects.toThrow('must be the same on every method that shares the breaker');
    });
  });

  describe('scoping', () => {
    it('isGlobal: false scopes the registry token; decorated methods elsewhere still work', async () => {
      @Injectable()
      class Elsewhere {
        @CircuitBreaker('elsewhere')
        value(): number {
          return 42;
        }
      }
      @Module({ providers: [Elsewhere], exports: [Elsewhere] })
      class ElsewhereModule {}
      const app = await boot({
        imports: [CircuitBreakerModule.forRoot({ isGlobal: false }), ElsewhereModule],
      });
      expect(app.get(Elsewhere).value()).toBe(42);
      expect(app.get(CircuitBreakerRegistry).get('elsewhere').stats().successes).toBe(1);

      @Injectable()
      class NeedsRegistry {
        constructor(readonly registry: CircuitBreakerRegistry) {}
      }
      @Module({ providers: [NeedsRegistry] })
      class NotImporting {}
      await expect(
        boot({ imports: [CircuitBreakerModule.forRoot({ isGlobal: false }), NotImporting] }),
      ).rejects.toThrow(/CircuitBreakerRegistry/);
    });

    it('two applications in one process never share a breaker', async () => {
      const metadata = () => ({
        imports: [CircuitBreakerModule.forRoot({ ...strict }), PaymentsModule],
      });
      const first = await boot(metadata());
      const second = await boot(metadata());
      const a = first.get(PaymentsClient);
      a.failing = true;
      for (let i = 0; i < 2; i++) await expect(a.charge(1)).rejects.toThrow('payments down');
      await expect(a.charge(1)).rejects.toThrow('Circuit breaker "payments" is open');
      expect(await second.get(PaymentsClient).charge(5)).toBe(5);
      expect(second.get(CircuitBreakerRegistry).get('payments').state).toBe('CLOSED');
      expect(first.get(CircuitBreakerRegistry).get('payments')).not.toBe(
        second.get(CircuitBreakerRegistry).get('payments'),
      );

      // An instance Nest did not create cannot tell which application it belongs to.
      const stray = new PaymentsClient(a.breaker);
      await expect(stray.charge(1)).rejects.toThrow(
        '@CircuitBreaker on PaymentsClient.charge (breaker "payments"): no initialised CircuitBreakerModule can serve this call',
      );
    });

    it('request-scoped instances share one breaker per name', async () => {
      const app = await boot({
        imports: [CircuitBreakerModule.forRoot({ defaults: { failureThreshold: 2 } })],
        providers: [PerRequestClient],
      });
      const first = await app.resolve(PerRequestClient, ContextIdFactory.create());
      const second = await app.resolve(PerRequestClient, ContextIdFactory.create());
      expect(first).not.toBe(second);
      expect(await first.fetch()).toBe('ok');
      PerRequestClient.failing = true;
      await expect(first.fetch()).rejects.toThrow('down');
      await expect(second.fetch()).rejects.toThrow('down');
      const breaker = app.get(CircuitBreakerRegistry).get('per-request');
      expect(breaker.stats()).toMatchObject({ state: 'OPEN', successes: 1, failures: 2 });
    });
  });

  describe('decorated methods and injection', () => {
    @Injectable()
    class Shapes {
      healthy = true;
      readonly prefix = 'cached';

      constructor(@InjectCircuitBreaker('declared') readonly declared: Breaker) {}

      @CircuitBreaker('shapes-sync', { failureThreshold: 1 })
      sync(): number {
        if (!this.healthy) throw new Error('down');
        return 1;
      }

      @CircuitBreaker('shapes-promise', { failureThreshold: 1 })
      async promise(): Promise<number> {
        if (!this.healthy) throw new Error('down');
        return 2;
      }

      @CircuitBreaker('shapes-observable', { failureThreshold: 1 })
      observable(): Observable<number> {
        return defer(() => (this.healthy ? of(3) : throwError(() => new Error('down'))));
      }

      @CircuitBreaker('shapes-fallback', {
        failureThreshold: 1,
        fallback(this: Shapes, error: unknown, args: readonly unknown[]) {
          return `${this.prefix}:${String(args[0])}:${(error as Error).name}`;
        },
      })
      async withFallback(id: string): Promise<string> {
        if (!this.healthy) throw new Error('down');
        return id;
      }
    }

    async function shapes(): Promise<{ app: INestApplication; svc: Shapes }> {
      const app = await boot({
        imports: [CircuitBreakerModule.forRoot({ breakers: { declared: { timeout: 50 } } })],
        providers: [Shapes],
      });
      return { app, svc: app.get(Shapes) };
    }

    it('breakers declared in forRoot are injectable with @InjectCircuitBreaker', async () => {
      const { app, svc } = await shapes();
      expect(svc.declared).toBe(app.get(CircuitBreakerRegistry).get('declared'));
      expect(app.get(getCircuitBreakerToken('declared'))).toBe(svc.declared);
      expect(svc.declared.options.timeout).toBe(50);
    });

    it('keep their shape, closed and open: sync stays sync, Promise rejects, Observable errors', async () => {
      const { svc } = await shapes();
      expect(svc.sync()).toBe(1);
      const promise = svc.promise();
      expect(promise).toBeInstanceOf(Promise);
      expect(await promise).toBe(2);
      expect(isObservable(svc.observable())).toBe(true);
      expect(await firstValueFrom(svc.observable())).toBe(3);

      svc.healthy = false;
      expect(() => svc.sync()).toThrow('down');
      await expect(svc.promise()).rejects.toThrow('down');
      await expect(firstValueFrom(svc.observable())).rejects.toThrow('down');

      expect(() => svc.sync()).toThrow(CircuitOpenError);
      const refused = svc.promise();
      expect(refused).toBeInstanceOf(Promise);
      await expect(refused).rejects.toThrow(CircuitOpenError);
      const refusedStream = svc.observable();
      expect(isObservable(refusedStream)).toBe(true);
      await expect(firstValueFrom(refusedStream)).rejects.toThrow(CircuitOpenError);
    });

    it('a fallback function receives the error and the arguments, with this bound', async () => {
      const { svc } = await shapes();
      svc.healthy = false;
      expect(await svc.withFallback('a')).toBe('cached:a:Error');
      expect(await svc.withFallback('b')).toBe('cached:b:CircuitOpenError');
    });
  });

  describe('lifecycle', () => {
    it('a decorated method called from another provider’s constructor goes through its declared breaker', async () => {
      const app = await boot({
        imports: [CircuitBreakerModule.forRoot({ ...strict }), PaymentsModule],
        providers: [EagerCaller],
      });
      expect(await app.get(EagerCaller).early).toBe(1);
      const payments = app.get(CircuitBreakerRegistry).get('payments');
      expect(payments).toBe(app.get(PaymentsClient).breaker);
      expect(payments.stats()).toMatchObject({ calls: 1, successes: 1 });
      expect(payments.options.timeout).toBe(2_000);
    });

    it('a decorated method in an application without the module fails with a clear error', async () => {
      @Injectable()
      class Orphan {
        @CircuitBreaker()
        value(): number {
          return 1;
        }
      }
      const app = await boot({ providers: [Orphan] });
      expect(() => app.get(Orphan).value()).toThrow(
        '@CircuitBreaker on Orphan.value (breaker "Orphan.value"): no initialised CircuitBreakerModule can serve this call. Import CircuitBreakerModule.forRoot()',
      );
    });

    it('works with @OnEvent() and @Cron() written above or below it', async () => {
      const app = await boot({
        imports: [
          CircuitBreakerModule.forRoot(),
          EventEmitterModule.forRoot(),
          ScheduleModule.forRoot(),
        ],
        providers: [ScheduledJobs],
      });
      const jobs = app.get(ScheduledJobs);
      const registry = app.get(CircuitBreakerRegistry);
      app.get(EventEmitter2).emit('order.created', { id: 7 });
      const scheduler = app.get(SchedulerRegistry);
      await scheduler.getCronJob('cron-below').fireOnTick();
      await scheduler.getCronJob('cron-above').fireOnTick();
      expect(jobs.calls.sort()).toEqual(['above:7', 'below:7', 'cron-above', 'cron-below']);
      for (const name of ['event-below', 'event-above', 'cron-below', 'cron-above']) {
        expect(registry.get(name).stats().successes).toBe(1);
      }
    });
  });
});
