import { Inject, Optional } from '@nestjs/common';
import { throwError } from 'rxjs';
import type { Breaker, FallbackFunction } from './core/index.js';
import {
  CIRCUIT_BREAKER_METADATA,
  CIRCUIT_BREAKER_REGISTRY,
  CIRCUIT_BREAKER_REGISTRY_PROPERTY,
} from './circuit-breaker.constants.js';
import {
  type BoundFallback,
  type GuardedCall,
  invokeObservable,
  invokePromise,
  invokeSync,
  invokeUnknown,
  type ReturnShape,
  shapeOfReturnType,
} from './circuit-breaker.invoker.js';
import {
  type CircuitBreakerRegistry,
  liveRegistryCount,
  soleLiveRegistry,
} from './circuit-breaker.registry.js';
import type {
  CircuitBreakerFallback,
  CircuitBreakerMethodOptions,
  CircuitBreakerOptions,
} from './interfaces/circuit-breaker-options.interface.js';

/**
 * What `@CircuitBreaker()` records, on the decorated method's function (read it with
 * `Reflect.getMetadata(CIRCUIT_BREAKER_METADATA, method)`) or on the decorated class.
 * @publicApi
 */
export interface CircuitBreakerMetadata {
  /** The breaker's name. */
  readonly name: string;
  /** The per-method options (the last layer of the breaker's options), without `fallback`. */
  readonly options: CircuitBreakerOptions;
  /** The method's fallback, if any. */
  readonly fallback: CircuitBreakerFallback | undefined;
  /** The class that declares the decorated method (or the decorated class). */
  readonly className: string;
  /** The decorated method's name; `undefined` for a class-level decorator. */
  readonly methodName: string | undefined;
  /**
   * What the method declares it returns: `'promise'` (an `async` method, or an annotated
   * `Promise<…>`), `'observable'` (`Observable<…>`), `'sync'` (any other annotated type), or
   * `undefined` when nothing says (no annotation, a union, an interface, a class-level decorator).
   */
  readonly returns: ReturnShape | undefined;
}

/** Instances the explorer found at bootstrap, for those Nest did not build by injection. */
const boundInstances = new WeakMap<object, CircuitBreakerRegistry>();

/** @internal Called by the explorer for every static instance with a decorated method. */
export function bindCircuitBreakerRegistry(
  instance: object,
  registry: CircuitBreakerRegistry,
): void {
  boundInstances.set(instance, registry);
}

const classesWithInjection = new WeakSet<object>();

function describeSite(metadata: CircuitBreakerMetadata): string {
  return `@CircuitBreaker on ${metadata.className}.${metadata.methodName} (breaker "${metadata.name}")`;
}

function registryOf(instance: unknown, metadata: CircuitBreakerMetadata): CircuitBreakerRegistry {
  if (instance !== null && (typeof instance === 'object' || typeof instance === 'function')) {
    const injected = (instance as Record<symbol, CircuitBreakerRegistry | undefined>)[
      CIRCUIT_BREAKER_REGISTRY_PROPERTY
    ];
    if (injected !== undefined) return injected;
    const bound = boundInstances.get(instance);
    if (bound !== undefined) return bound;
  }
  const sole = soleLiveRegistry();
  if (sole !== undefined) return sole;
  const running = liveRegistryCount();
  throw new Error(
    `${describeSite(metadata)}: no initialised CircuitBreakerModule can serve this call. ` +
      'Import CircuitBreakerModule.forRoot() (or forRootAsync()) in the application, and call the ' +
      'method on an instance that Nest created, once the application has initialised' +
      (running > 1
        ? ` (${running} applications are running in this process and this instance belongs to none of them).`
        : '.'),
  );
}

function breakerOf(registry: CircuitBreakerRegistry, metadata: CircuitBreakerMetadata): Breaker {
  if (!registry.has(metadata.name)) {
    // Declared now: the module has not initialised yet (a testing module that was only
    // compiled, another provider's onModuleInit, a constructor), or an instance the explorer never
    // saw (built by a factory after bootstrap). The breaker is made from what is declared so far;
    // init() still validates every breaker of the application.
    registry.declareMethod(
      metadata.name,
      metadata.options,
      `@CircuitBreaker on ${metadata.className}.${metadata.methodName}`,
    );
  }
  return registry.get(metadata.name);
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

function splitOptions(options: CircuitBreakerMethodOptions | undefined): {
  layer: CircuitBreakerOptions;
  fallback: CircuitBreakerFallback | undefined;
} {
  if (options === undefined) return { layer: {}, fallback: undefined };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError('@CircuitBreaker(name?, options?): options must be an object');
  }
  const { fallback, ...layer } = options;
  return { layer, fallback };
}

type AnyFunction = (...args: never[]) => unknown;

function copyFunctionIdentity(from: AnyFunction, to: AnyFunction): void {
  for (const key of Reflect.getOwnMetadataKeys(from)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, from), to);
  }
  Object.defineProperty(to, 'name', { value: from.name, configurable: true });
  Object.defineProperty(to, 'length', { value: from.length, configurable: true });
}

function guardMethod(
  original: (...args: unknown[]) => unknown,
  metadata: CircuitBreakerMetadata,
  declaredShape: ReturnShape | undefined,
): (...args: unknown[]) => unknown {
  // One breaker per application (registry), shared by every instance: request-scoped providers
  // share a breaker per name, and two applications in one process never share one.
  const breakers = new WeakMap<CircuitBreakerRegistry, Breaker>();
  let seenShape: ReturnShape | undefined;
  const learn = (shape: ReturnShape): void => {
    seenShape = shape;
  };
  return function circuitBreakerGuard(this: unknown, ...args: unknown[]): unknown {
    let breaker: Breaker | undefined;
    try {
      const registry = registryOf(this, metadata);
      breaker = breakers.get(registry);
      if (breaker === undefined) {
        breaker = breakerOf(registry, metadata);
        breakers.set(registry, breaker);
      }
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
}

/**
 * Routes a method's calls through a circuit breaker, or (on a controller class) marks every route
 * of the controller for `CircuitBreakerInterceptor`, with one breaker for the controller.
 *
 * ```ts
 * @CircuitBreaker('payments', { fallback: 'cachedQuote', timeout: 2_000 })
 * async quote(id: string): Promise<Quote> { ... }
 * ```
 *
 * - `name` defaults to `ClassName.methodName` (the class name for a class-level decorator).
 * - `options` are per-method overrides of the breaker's options, plus the method's `fallback`.
 * - Synchronous, `Promise`-returning and `Observable`-returning methods keep their shape. An
 *   Observable is guarded per subscription: an error is a failure, the first value or completion
 *   a success, unsubscribing before either is neither (counted as ignored); an error after the
 *   first value reaches the subscriber but is not counted again. A method declared to return an
 *   Observable that throws instead returns one that errors. The shape comes from the declared return
 *   type (`emitDecoratorMetadata`), an `async` method, or else what the method returns; a call
 *   refused before the method ran throws synchronously until the method has been seen to return
 *   a promise.
 * - `timeout` applies to Promise and Observable methods (per subscription, until the first value,
 *   an error or completion; a timed-out subscription is torn down). On a method declared
 *   synchronous it fails the bootstrap: nothing can interrupt a synchronous call.
 * - The fallback answers refused, failed and timed-out calls (`fallbackOnFailure: false` on the
 *   breaker limits it to refused ones).
 * - `this`, the method's name and every other decorator's metadata are kept, whichever order the
 *   decorators are written in. Validated at bootstrap (`init()`); a call made before it (a testing
 *   module that was only compiled, another provider's `onModuleInit` or constructor) goes through
 *   the breaker declared so far. Calling the method without the module throws an error that names
 *   the method and the breaker.
 * @publicApi
 */
export function CircuitBreaker(
  options?: CircuitBreakerMethodOptions,
): MethodDecorator & ClassDecorator;
export function CircuitBreaker(
  name?: string,
  options?: CircuitBreakerMethodOptions,
): MethodDecorator & ClassDecorator;
export function CircuitBreaker(
  nameOrOptions?: string | CircuitBreakerMethodOptions,
  maybeOptions?: CircuitBreakerMethodOptions,
): MethodDecorator & ClassDecorator {
  const name = typeof nameOrOptions === 'string' ? nameOrOptions : undefined;
  const options =
    typeof nameOrOptions === 'string' ? maybeOptions : (nameOrOptions ?? maybeOptions);
  if (nameOrOptions !== undefined && typeof nameOrOptions === 'string' && nameOrOptions === '') {
    throw new TypeError('@CircuitBreaker(name?, options?): name must be a non-empty string');
  }
  const { layer, fallback } = splitOptions(options);

  return ((target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (key === undefined || descriptor === undefined) {
      const cls = target as AnyFunction;
      const metadata: CircuitBreakerMetadata = {
        name: name ?? cls.name,
        options: layer,
        fallback,
        className: cls.name,
        methodName: undefined,
        returns: undefined,
      };
      Reflect.defineMetadata(CIRCUIT_BREAKER_METADATA, metadata, cls);
      return undefined;
    }
    const original: unknown = descriptor.value;
    const className =
      typeof target === 'function' ? (target as AnyFunction).name : target.constructor.name;
    if (typeof original !== 'function') {
      throw new TypeError(`@CircuitBreaker on ${className}.${String(key)}: not a method`);
    }
    if (typeof target === 'function') {
      throw new TypeError(
        `@CircuitBreaker on static method ${className}.${String(key)}: only instance methods of providers and controllers can be guarded`,
      );
    }
    const declaredShape =
      original.constructor?.name === 'AsyncFunction'
        ? 'promise'
        : shapeOfReturnType(Reflect.getMetadata('design:returntype', target, key));
    const metadata: CircuitBreakerMetadata = {
      name: name ?? `${className}.${String(key)}`,
      options: layer,
      fallback,
      className,
      methodName: String(key),
      returns: declaredShape,
    };
    const guarded = guardMethod(original as (...a: unknown[]) => unknown, metadata, declaredShape);
    copyFunctionIdentity(original as AnyFunction, guarded);
    Reflect.defineMetadata(CIRCUIT_BREAKER_METADATA, metadata, guarded);
    descriptor.value = guarded;

    // Nest injects the application's registry into each instance (optional property injection),
    // so request-scoped and transient instances created later know their application too.
    if (!classesWithInjection.has(target)) {
      classesWithInjection.add(target);
      Inject(CIRCUIT_BREAKER_REGISTRY)(target, CIRCUIT_BREAKER_REGISTRY_PROPERTY);
      Optional()(target, CIRCUIT_BREAKER_REGISTRY_PROPERTY);
    }
    return descriptor;
  }) as MethodDecorator & ClassDecorator;
}

/** The `@CircuitBreaker()` metadata of a method function or a class, if any. @publicApi */
export function getCircuitBreakerMetadata(target: unknown): CircuitBreakerMetadata | undefined {
  if (target === null || (typeof target !== 'object' && typeof target !== 'function')) {
    return undefined;
  }
  return Reflect.getMetadata(CIRCUIT_BREAKER_METADATA, target) as
    CircuitBreakerMetadata | undefined;
}
