import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { APP_FILTER, ModulesContainer } from '@nestjs/core';
import { CIRCUIT_BREAKER_REGISTRY, getCircuitBreakerToken } from './circuit-breaker.constants.js';
import { CircuitBreakerCoreModule } from './circuit-breaker-core.module.js';
import type {
  CircuitBreakerModuleAsyncOptions,
  CircuitBreakerModuleRootOptions,
} from './circuit-breaker.module-definition.js';
import { CircuitBreakerRegistry } from './circuit-breaker.registry.js';
import { CircuitOpenExceptionFilter } from './circuit-open.filter.js';
import type { CircuitBreakerModuleExtras } from './interfaces/circuit-breaker-module-options.interface.js';
import type { CircuitBreakerFeature } from './interfaces/circuit-breaker-options.interface.js';

const registryAlias: Provider = {
  provide: CircuitBreakerRegistry,
  useExisting: CIRCUIT_BREAKER_REGISTRY,
};

function breakerProviders(names: readonly string[], after: readonly symbol[]): Provider[] {
  return names.map((name) => ({
    provide: getCircuitBreakerToken(name),
    useFactory: (registry: CircuitBreakerRegistry) => registry.get(name),
    inject: [CIRCUIT_BREAKER_REGISTRY, ...after],
  }));
}

function featureName(feature: CircuitBreakerFeature, index: number): string {
  const name = typeof feature === 'string' ? feature : (feature as { name?: unknown } | null)?.name;
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(
      `CircuitBreakerModule.forFeature(): item ${index} must be a breaker name or { name, ...options }`,
    );
  }
  return name;
}

/**
 * ` imported by PaymentsModule`: the modules that import the `forFeature()` module providing
 * `token`, so that two declarations of one breaker can be told apart in an error message.
 */
function importedBy(modules: ModulesContainer, token: symbol): string {
  const all = [...modules.values()];
  const feature = all.find((module) => module.providers.has(token));
  if (feature === undefined) return '';
  const importers = all.filter((module) => module.imports.has(feature)).map((m) => m.name);
  return importers.length > 0 ? ` imported by ${importers.join(', ')}` : '';
}

/**
 * Circuit breakers for a Nest application.
 *
 * ```ts
 * @Module({
 *   imports: [
 *     CircuitBreakerModule.forRoot({
 *       defaults: { failureThreshold: 5, openDuration: 30_000 },
 *       configs: { strict: { failureThreshold: 2 } },
 *       breakers: { payments: { extends: 'strict', timeout: 2_000 } },
 *     }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 *
 * Import `forRoot()` or `forRootAsync()` once, in the root module. It is global by default
 * (`isGlobal`). Feature modules declare their own breakers with `forFeature()`; they join the one
 * registry of the application.
 * @publicApi
 */
@Module({})
export class CircuitBreakerModule {
  /** Configures the application's breakers with static options. */
  static forRoot(options: CircuitBreakerModuleRootOptions = {}): DynamicModule {
    const breakers: unknown = options.breakers;
    const names =
      typeof breakers === 'object' && breakers !== null && !Array.isArray(breakers)
        ? Object.keys(breakers)
        : [];
    return this.root(CircuitBreakerCoreModule.forRoot(options), options, names);
  }

  /**
   * Configures the application's breakers with options made by a factory (`useFactory` with
   * `inject` and `imports`), a class implementing `CircuitBreakerOptionsFactory` (`useClass`), or
   * an existing provider of one (`useExisting`). `isGlobal` and `httpErrorFilter` go next to them.
   * Breakers declared by the factory are not injectable by token; list them in `forFeature()`.
   */
  static forRootAsync(options: CircuitBreakerModuleAsyncOptions): DynamicModule {
    return this.root(CircuitBreakerCoreModule.forRootAsync(options), options, []);
  }

  /**
   * Declares breakers of a feature module: `forFeature([{ name: 'payments', timeout: 2_000 }])`.
   * Each joins the application's one registry, is validated at startup, and is injectable in this
   * module with `@InjectCircuitBreaker(name)`. A bare name (`'payments'`) declares nothing new and
   * only makes a breaker declared elsewhere injectable here. Declaring a name again with options
   * (here, in another `forFeature()`, or in `forRoot({ breakers })`) is allowed only with the same
   * options; different ones fail the bootstrap, naming the breaker, the option and both
   * declarations. `CircuitBreakerRegistry` is injectable in this module too.
   */
  static forFeature(features: readonly CircuitBreakerFeature[]): DynamicModule {
    if (!Array.isArray(features)) {
      throw new TypeError(
        'CircuitBreakerModule.forFeature() expects an array of breaker names or { name, ...options }',
      );
    }
    const names = features.map(featureName);
    const declared = Symbol(`CircuitBreakerFeature(${names.join(', ')})`);
    const source = `CircuitBreakerModule.forFeature([${names.map((n) => `"${n}"`).join(', ')}])`;
    const breakers = breakerProviders(names, [declared]);
    return {
      module: CircuitBreakerModule,
      providers: [
        {
          provide: declared,
          useFactory: (registry: CircuitBreakerRegistry, modules: ModulesContainer) => {
            registry.declarations.declareFeature(
              features,
              `${source}${importedBy(modules, declared)}`,
            );
            return names;
          },
          inject: [CIRCUIT_BREAKER_REGISTRY, ModulesContainer],
        },
        registryAlias,
        ...breakers,
      ],
      exports: [CircuitBreakerRegistry, ...names.map(getCircuitBreakerToken)],
    };
  }

  private static root(
    core: DynamicModule,
    extras: CircuitBreakerModuleExtras,
    names: readonly string[],
  ): DynamicModule {
    const providers: Provider[] = [registryAlias, ...breakerProviders(names, [])];
    if (extras.httpErrorFilter === true) {
      providers.push({ provide: APP_FILTER, useClass: CircuitOpenExceptionFilter });
    }
    return {
      module: CircuitBreakerModule,
      global: extras.isGlobal ?? true,
      imports: [core],
      providers,
      exports: [CircuitBreakerRegistry, ...names.map(getCircuitBreakerToken)],
    };
  }
}
