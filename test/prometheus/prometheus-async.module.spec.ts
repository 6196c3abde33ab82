import { afterEach, describe, expect, it } from '@jest/globals';
import { Inject, Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import { CircuitBreakerModule, CircuitBreakerRegistry } from '../../lib/index.js';
import {
  type CircuitBreakerMetricsOptions,
  type CircuitBreakerMetricsOptionsFactory,
  type CircuitBreakerPrometheusAsyncOptions,
  CircuitBreakerPrometheusModule,
} from '../../lib/prometheus/index.js';

/** A configuration module, as `ConfigModule` would be: it exports the settings the factory reads. */
const SETTINGS = Symbol('settings');
interface Settings {
  registry: Registry;
  prefix: string;
}
const settings: Settings = { registry: new Registry(), prefix: 'svc_cb_' };

@Module({ providers: [{ provide: SETTINGS, useValue: settings }], exports: [SETTINGS] })
class SettingsModule {}

@Injectable()
class MetricsOptionsMaker implements CircuitBreakerMetricsOptionsFactory {
  constructor(@Inject(SETTINGS) private readonly s: Settings) {}
  createCircuitBreakerMetricsOptions(): Promise<CircuitBreakerMetricsOptions> {
    return Promise.resolve({ registry: this.s.registry, prefix: this.s.prefix });
  }
}

@Module({
  imports: [SettingsModule],
  providers: [MetricsOptionsMaker],
  exports: [MetricsOptionsMaker],
})
class MakerModule {}

const apps: INestApplicationContext[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  settings.registry = new Registry();
});

async function boot(metrics: ReturnType<typeof CircuitBreakerPrometheusModule.forRootAsync>) {
  const moduleRef = await Test.createTestingModule({
    imports: [CircuitBreakerModule.forRoot(), metrics],
  }).compile();
  const app = await moduleRef.init();
  apps.push(app);
  return app;
}

/** Runs one call through `payments` and returns the scrape of the configured registry. */
async function scrapeAfterOneCall(app: INestApplicationContext): Promise<string> {
  app
    .get(CircuitBreakerRegistry)
    .getOrCreate('payments')
    .executeSync(() => 'ok');
  return settings.registry.metrics();
}

describe('CircuitBreakerPrometheusModule.forRootAsync()', () => {
  it('takes the options from useFactory, with inject and imports, even when async', async () => {
    const seen: unknown[] = [];
    const app = await boot(
      CircuitBreakerPrometheusModule.forRootAsync({
        imports: [SettingsModule],
        inject: [SETTINGS],
        useFactory: async (s: Settings) => {
          seen.push(s);
          await Promise.resolve();
          return { registry: s.registry, prefix: s.prefix };
        },
      }),
    );
    expect(seen).toEqual([settings]);
    const text = await scrapeAfterOneCall(app);
    expect(text).toContain('svc_cb_state{name="payments",state="closed"} 1');
    expect(text).toContain('svc_cb_calls_seconds_count{name="payments",kind="successful"} 1');
    expect(text).not.toContain('circuitbreaker_');
  });

  it('takes the options from useClass, instantiated with its dependencies', async () => {
    const app = await boot(
      CircuitBreakerPrometheusModule.forRootAsync({
        imports: [SettingsModule],
        useClass: MetricsOptionsMaker,
      }),
    );
    expect(await scrapeAfterOneCall(app)).toContain(
      'svc_cb_state{name="payments",state="closed"} 1',
    );
  });

  it('takes the options from useExisting, a provider of an imported module', async () => {
    const app = await boot(
      CircuitBreakerPrometheusModule.forRootAsync({
        imports: [MakerModule],
        useExisting: MetricsOptionsMaker,
      }),
    );
    expect(await scrapeAfterOneCall(app)).toContain(
      'svc_cb_state{name="payments",state="closed"} 1',
    );
  });

  it('takes its metrics off the registry on shutdown', async () => {
    const app = await boot(
      CircuitBreakerPrometheusModule.forRootAsync({
        useFactory: () => ({ registry: settings.registry }),
      }),
    );
    await scrapeAfterOneCall(app);
    expect(settings.registry.getSingleMetric('circuitbreaker_state')).toBeDefined();
    await apps.pop()!.close();
    expect(settings.registry.getMetricsAsArray()).toHaveLength(0);
  });

  describe('fails the bootstrap with an error naming what is wrong', () => {
    const cases: Array<[string, () => unknown, RegExp]> = [
      [
        'a factory that returns nothing',
        () => undefined,
        /forRootAsync\(\): the options must be an object \{ registry\?, prefix\?, buckets\?, maxKeysPerFamily\? \}, received undefined \(undefined\)/,
      ],
      [
        'a factory that resolves to null',
        () => Promise.resolve(null),
        /the options must be an object .*, received null/,
      ],
      [
        'an unknown option',
        () => ({ prefx: 'x_' }),
        /forRootAsync\(\): unknown option "prefx" \(expected registry, prefix, buckets or maxKeysPerFamily\)/,
      ],
      [
        'a registry that is not a prom-client Registry',
        () => ({ registry: {} }),
        /forRootAsync\(\): option "registry" must be a prom-client Registry, received an object/,
      ],
      [
        'a repeated bucket bound',
        () => ({ registry: settings.registry, buckets: [0.1, 1, 0.1] }),
        /buckets must not repeat a bound, received 0.1,1,0.1 \(0.1 twice\)/,
      ],
      [
        'an invalid prefix',
        () => ({ registry: settings.registry, prefix: '1-bad' }),
        /prefix must be a valid Prometheus metric name prefix, received "1-bad"/,
      ],
    ];
    it.each(cases)('%s', async (_what, useFactory, message) => {
      await expect(
        boot(
          CircuitBreakerPrometheusModule.forRootAsync({
            useFactory: useFactory as () => CircuitBreakerMetricsOptions,
          }),
        ),
      ).rejects.toThrow(message);
    });

    it('a definition with no way, or two ways, to make the options', () => {
      expect(() => CircuitBreakerPrometheusModule.forRootAsync({})).toThrow(
        'CircuitBreakerPrometheusModule.forRootAsync(): expected exactly one of useFactory, useClass or useExisting, received none',
      );
      expect(() =>
        CircuitBreakerPrometheusModule.forRootAsync({
          useFactory: () => ({}),
          useClass: MetricsOptionsMaker,
        }),
      ).toThrow('received useFactory and useClass');
      expect(() =>
        CircuitBreakerPrometheusModule.forRootAsync(
          null as unknown as CircuitBreakerPrometheusAsyncOptions,
        ),
      ).toThrow(
        'forRootAsync(): expected { imports?, inject?, useFactory | useClass | useExisting }',
      );
      expect(() =>
        CircuitBreakerPrometheusModule.forRootAsync({
          useFactory: 'prefix' as unknown as () => CircuitBreakerMetricsOptions,
        }),
      ).toThrow('option "useFactory" must be a function, received prefix (string)');
      expect(() =>
        CircuitBreakerPrometheusModule.forRootAsync({
          inject: 'SETTINGS' as unknown as [],
          useFactory: () => ({}),
        }),
      ).toThrow('option "inject" must be an array of providers, received SETTINGS (string)');
    });

    it('forRoot() checks the same shape when called', () => {
      expect(() =>
        CircuitBreakerPrometheusModule.forRoot({
          registry: 'global' as unknown as Registry,
        }),
      ).toThrow(
        'CircuitBreakerPrometheusModule.forRoot(): option "registry" must be a prom-client Registry, received global (string)',
      );
    });
  });
});
