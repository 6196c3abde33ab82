import type { Provider } from '@nestjs/common';
import type { CircuitBreakerMetricsOptions } from './circuit-breaker-metrics-options.interface.js';
import type {
  CircuitBreakerMetricsOptionsFactory,
  CircuitBreakerPrometheusAsyncOptions,
} from './circuit-breaker-prometheus-async-options.interface.js';

const OPTION_NAMES: ReadonlySet<string> = new Set([
  'registry',
  'prefix',
  'buckets',
  'maxKeysPerFamily',
]);
const WAYS = ['useFactory', 'useClass', 'useExisting'] as const;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return `a function (${value.name || 'anonymous'})`;
  return typeof value === 'object' ? 'an object' : `${String(value)} (${typeof value})`;
}

/**
 * Checks the options' shape (`prefix` and `buckets` are checked where they are used, by
 * `registerCircuitBreakerMetrics`): an object with no unknown key, and a `registry` that is a
 * prom-client registry. `source` names the method in the error.
 */
export function checkMetricsOptions(
  options: unknown,
  source: string,
): CircuitBreakerMetricsOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(
      `${source}: the options must be an object { registry?, prefix?, buckets?, maxKeysPerFamily? }, received ${describe(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.has(key)) {
      throw new TypeError(
        `${source}: unknown option "${key}" (expected registry, prefix, buckets or maxKeysPerFamily)`,
      );
    }
  }
  const { registry } = options as { registry?: { registerMetric?: unknown; metrics?: unknown } };
  if (
    registry !== undefined &&
    (typeof registry?.registerMetric !== 'function' || typeof registry.metrics !== 'function')
  ) {
    throw new TypeError(
      `${source}: option "registry" must be a prom-client Registry, received ${describe(registry)}`,
    );
  }
  return options as CircuitBreakerMetricsOptions;
}

/**
 * The providers of `forRootAsync()`, written out rather than built with Nest's
 * `ConfigurableModuleBuilder` as `CircuitBreakerModule` is: that is a run-time import of
 * `@nestjs/common`, which this entry point must not load (engine users import it without Nest;
 * `npm run lint:structure` checks it). `token` is the options made by `useFactory`, `useClass`
 * or `useExisting` (exactly one, checked here, when the module is declared), checked when made.
 */
export function asyncOptionsProviders(
  token: symbol,
  definition: CircuitBreakerPrometheusAsyncOptions,
): Provider[] {
  const source = 'CircuitBreakerPrometheusModule.forRootAsync()';
  if (typeof definition !== 'object' || definition === null) {
    throw new TypeError(
      `${source}: expected { imports?, inject?, useFactory | useClass | useExisting }, received ${describe(definition)}`,
    );
  }
  const given = WAYS.filter((way) => definition[way] !== undefined);
  if (given.length !== 1) {
    throw new TypeError(
      `${source}: expected exactly one of useFactory, useClass or useExisting, received ${given.length === 0 ? 'none' : given.join(' and ')}`,
    );
  }
  if (definition.inject !== undefined && !Array.isArray(definition.inject)) {
    throw new TypeError(
      `${source}: option "inject" must be an array of providers, received ${describe(definition.inject)}`,
    );
  }
  const made = async (options: unknown) => checkMetricsOptions(await options, source);
  if (definition.useFactory !== undefined) {
    const factory = definition.useFactory as (...args: unknown[]) => unknown;
    if (typeof factory !== 'function') {
      throw new TypeError(
        `${source}: option "useFactory" must be a function, received ${describe(factory)}`,
      );
    }
    return [
      {
        provide: token,
        useFactory: (...args: unknown[]) => made(factory(...args)),
        inject: definition.inject ?? [],
      },
    ];
  }
  const maker = (definition.useClass ?? definition.useExisting)!;
  const providers: Provider[] = [
    {
      provide: token,
      useFactory: (factory: CircuitBreakerMetricsOptionsFactory) =>
        made(factory.createCircuitBreakerMetricsOptions()),
      inject: [maker],
    },
  ];
  if (definition.useClass !== undefined)
    providers.push({ provide: definition.useClass, useClass: definition.useClass });
  return providers;
}
