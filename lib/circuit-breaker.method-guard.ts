import { throwError } from 'rxjs';
import {
  type Breaker,
  BreakerFamily,
  type FallbackFunction,
  isBreakerOptionsError,
  isRejection,
} from './core/internal.js';
import type { CircuitBreakerMetadata } from './interfaces/circuit-breaker-metadata.interface.js';
import {
  type BoundFallback,
  type GuardedCall,
  invokeObservable,
  invokePromise,
  invokeSync,
  invokeUnknown,
  type ReturnShape,
} from './circuit-breaker.invoker.js';
import type { CircuitBreakerRegistry } from './circuit-breaker.registry.js';
import { noRegistryError, registryFor } from './circuit-breaker.registry-locator.js';
import type { CircuitBreakerFallback } from './interfaces/circuit-breaker-options.interface.js';
import { skipRefusedJobRuns } from './transports/job-refusals.js';

/** `@CircuitBreaker on PaymentsClient.quote`: where a method's declaration was written. */
export function methodSource(metadata: CircuitBreakerMetadata): string {
  return `@CircuitBreaker on ${metadata.className}.${metadata.methodName}`;
}

function describeSite(metadata: CircuitBreakerMetadata): string {
  return `${methodSource(metadata)} (breaker "${metadata.name}")`;
}

function breakerOf(registry: CircuitBreakerRegistry, metadata: CircuitBreakerMetadata): Breaker {
  if (!registry.has(metadata.name)) {
    // Declared now: the module has not initialised yet (a testing module that was only
    // compiled, another provider's onModuleInit, a constructor), or an instance the explorer never
    // saw (built by a factory after bootstrap). The breaker is made from what is declared so far;
    // init() still validates every breaker of the application.
    registry.declarations.declareMethod(metadata.name, metadata.options, methodSource(metadata));
  }
  return registry.get(metadata.name);
}

function familyOf(
  registry: CircuitBreakerRegistry,
  metadata: CircuitBreakerMetadata,
): BreakerFamily {
  if (!registry.hasFamily(metadata.name)) {
    registry.declareFamilyMethod(metadata.name, metadata.options, methodSource(metadata));
  }
  return registry.family(metadata.name);
}

/** The breaker of this call's key: the key function's answer, or an error naming the method. */
function memberFor(
  family: BreakerFamily,
  keyOf: (...args: never[]) => unknown,
  instance: unknown,
  args: unknown[],
  metadata: CircuitBreakerMetadata,
): Breaker {
  let key: unknown;
  try {
    key = (keyOf as (...a: unknown[]) => unknown).apply(instance, args);
  } catch (error) {
    throw new TypeError(`${describeSite(metadata)}: the key function threw`, { cause: error });
  }
  try {
    return family.get(key as string);
  } catch (error) {
    if (isBreakerOptionsError(error) || isRejection(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new TypeError(`${describeSite(metadata)}: ${message}`, { cause: error });
  }
}

function bindFallback(
  fallback: CircuitBreakerFallback | undefined,
  instance: unknown,
  args: unknown[],
  metadata: CircuitBreakerMetadata,
): BoundFallback | undefined {
  if (fallback === undefined) return undefined;
  if (typeof fallback === 'function') {
    return (error) => (fallback as FallbackFunction).call(instance, error, args);
  }
  return (error) => {
    const method = (instance as Record<string, unknown> | null | undefined)?.[fallback];
    if (typeof method !== 'function') {
      throw new TypeError(
        `${describeSite(metadata)}: fallback method "${fallback}" is not a method of this instance`,
      );
    }
    return (method as (...a: unknown[]) => unknown).apply(instance, [...args, error]);
  };
}

/**
 * The function that replaces a decorated method: it finds the breaker of the instance's
 * application (see the registry locator) and routes the call through it in the method's shape.
 */
export function guardMethod(
  original: (...args: unknown[]) => unknown,
  metadata: CircuitBreakerMetadata,
): (...args: unknown[]) => unknown {
  const declaredShape = metadata.returns;
  // One breaker per application (registry), shared by every instance: request-scoped providers
  // share a breaker per name, and two applications in one process never share one.
  const routes = new WeakMap<CircuitBreakerRegistry, Breaker | BreakerFamily>();
  const keyOf = metadata.key;
  let seenShape: ReturnShape | undefined;
  const learn = (shape: ReturnShape): void => {
    seenShape = shape;
  };
  const guard = function guardedCall(this: unknown, ...args: unknown[]): unknown {
    let breaker: Breaker | undefined;
    try {
      const registry = registryFor(this);
      if (registry === undefined) throw noRegistryError(describeSite(metadata));
      let route = routes.get(registry);
      if (route === undefined) {
        route = keyOf === undefined ? breakerOf(registry, metadata) : familyOf(registry, metadata);
        routes.set(registry, route);
      }
      // A family routes each call to its key's breaker (created on first use of the key).
      breaker =
        route instanceof BreakerFamily ? memberFor(route, keyOf!, this, args, metadata) : route;
    } catch (error) {
      // No usable module: fail in the method's own shape, with an error naming it.
      const shape = declaredShape ?? seenShape;
      if (shape === 'promise') return Promise.reject(error);
      if (shape === 'observable') return throwError(() => error);
      throw error;
    }
    const call: GuardedCall = {
      breaker,
      run: () => original.apply(this, args),
      args,
      fallback: bindFallback(metadata.fallback, this, args, metadata),
    };
    switch (declaredShape ?? (seenShape === 'observable' ? seenShape : undefined)) {
      case 'promise':
        return invokePromise(call);
      case 'sync':
        return invokeSync(call);
      case 'observable':
        return invokeObservable(call);
      default:
        return invokeUnknown(call, seenShape, learn);
    }
  };
  // Scheduled jobs and event handlers skip a refused run quietly (lib/transports/job-refusals).
  return skipRefusedJobRuns(guard, metadata);
}
