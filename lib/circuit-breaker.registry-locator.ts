import { Inject, Optional } from '@nestjs/common';
import { CIRCUIT_BREAKER_REGISTRY } from './circuit-breaker.constants.js';
import type { CircuitBreakerRegistry } from './circuit-breaker.registry.js';

/**
 * Which application's registry serves a call of a decorated method, decided here and nowhere else.
 * In order:
 *
 * 1. the registry Nest injected into the instance (optional property injection, installed on every
 *    class with a `@CircuitBreaker()` method, so it reaches request-scoped and transient instances);
 * 2. the registry of the application whose explorer found the instance at bootstrap (a static
 *    instance Nest built without property injection, such as one made by a factory provider);
 * 3. the registry of the only initialised application in the process, if there is exactly one
 *    (an instance Nest did not build, such as `new PaymentsClient()`).
 */

/**
 * The property under which Nest injects the registry into every instance of a class that has a
 * `@CircuitBreaker()` method (optional property injection, so it also reaches request-scoped and
 * transient instances created after bootstrap).
 */
const REGISTRY_PROPERTY = Symbol('circuitBreakerRegistry');

/** Instances the explorer found at bootstrap, with their application's registry. */
const bound = new WeakMap<object, CircuitBreakerRegistry>();

/** Registries of applications that finished initialising; pruned once they shut down. */
const live = new Set<CircuitBreakerRegistry>();

/** Classes whose instances already get the registry injected. */
const injected = new WeakSet<object>();

function liveRegistries(): ReadonlySet<CircuitBreakerRegistry> {
  for (const registry of live) if (registry.isShutDown) live.delete(registry);
  return live;
}

/**
 * Has Nest inject the application's registry into every instance of the class whose prototype is
 * `prototype` (optional: an application without the module leaves it unset).
 */
export function injectRegistryInto(prototype: object): void {
  if (injected.has(prototype)) return;
  injected.add(prototype);
  Inject(CIRCUIT_BREAKER_REGISTRY)(prototype, REGISTRY_PROPERTY);
  Optional()(prototype, REGISTRY_PROPERTY);
}

/** Binds an instance found at bootstrap to its application's registry. */
export function bindInstance(instance: object, registry: CircuitBreakerRegistry): void {
  bound.set(instance, registry);
}

/** Records that `registry`'s application has initialised (until it shuts down). */
export function markLive(registry: CircuitBreakerRegistry): void {
  liveRegistries();
  live.add(registry);
}

/** The registry that serves a call on `instance`, if an application can. */
export function registryFor(instance: unknown): CircuitBreakerRegistry | undefined {
  if (instance !== null && (typeof instance === 'object' || typeof instance === 'function')) {
    const own = (instance as Record<symbol, CircuitBreakerRegistry | undefined>)[REGISTRY_PROPERTY];
    if (own !== undefined) return own;
    const found = bound.get(instance);
    if (found !== undefined) return found;
  }
  const running = liveRegistries();
  return running.size === 1 ? running.values().next().value : undefined;
}

/** Why no registry serves a call of `site` (the decorated method and its breaker). */
export function noRegistryError(site: string): Error {
  const running = liveRegistries().size;
  return new Error(
    `${site}: no initialised CircuitBreakerModule can serve this call. ` +
      'Import CircuitBreakerModule.forRoot() (or forRootAsync()) in the application, and call the ' +
      'method on an instance that Nest created, once the application has initialised' +
      (running > 1
        ? ` (${running} applications are running in this process and this instance belongs to none of them).`
        : '.'),
  );
}
