import { Reflector } from '@nestjs/core';
import { CIRCUIT_BREAKER_METADATA } from './circuit-breaker.constants.js';
import { shapeOfReturnType } from './circuit-breaker.invoker.js';
import { guardMethod } from './circuit-breaker.method-guard.js';
import { injectRegistryInto } from './circuit-breaker.registry-locator.js';
import type { CircuitBreakerMetadata } from './interfaces/circuit-breaker-metadata.interface.js';
import { checkFamilyName } from './circuit-breaker.declarations.js';
import type {
  CircuitBreakerFallback,
  CircuitBreakerKeyedOptions,
  CircuitBreakerMethodOptions,
  CircuitBreakerOptions,
} from './interfaces/circuit-breaker-options.interface.js';

/** Writes a {@link CircuitBreakerMetadata} under `CIRCUIT_BREAKER_METADATA`. */
const CircuitBreakerMetadataDecorator = Reflector.createDecorator<CircuitBreakerMetadata>({
  key: CIRCUIT_BREAKER_METADATA,
});

type KeyFunction = (...args: never[]) => unknown;

function splitOptions(options: CircuitBreakerMethodOptions | undefined): {
  layer: CircuitBreakerOptions;
  fallback: CircuitBreakerFallback | undefined;
  key: KeyFunction | undefined;
} {
  if (options === undefined) return { layer: {}, fallback: undefined, key: undefined };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError('@CircuitBreaker(name?, options?): options must be an object');
  }
  const { fallback, key, ...layer } = options as CircuitBreakerKeyedOptions<never[]>;
  if (key !== undefined && typeof key !== 'function') {
    throw new TypeError(
      `@CircuitBreaker(name, { key }): key must be a function of the method's arguments, received ${typeof key}`,
    );
  }
  return { layer, fallback, key };
}

/**
 * A method decorator that accepts only methods whose parameters start with `A` (what the key
 * function declares): same types, and at least as many.
 * @publicApi
 */
export type KeyedMethodDecorator<A extends unknown[]> = <
  M extends (...args: [...A, ...never[]]) => unknown,
>(
  target: object,
  propertyKey: string | symbol,
  descriptor: TypedPropertyDescriptor<M> &
    (Parameters<M> extends [...A, ...unknown[]]
      ? unknown
      : { keyParameters: 'the key function declares more parameters than the method has' }),
) => TypedPropertyDescriptor<M> | void;

type AnyFunction = (...args: never[]) => unknown;

function copyFunctionIdentity(from: AnyFunction, to: AnyFunction): void {
  for (const key of Reflect.getOwnMetadataKeys(from)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, from), to);
  }
  Object.defineProperty(to, 'name', { value: from.name, configurable: true });
  Object.defineProperty(to, 'length', { value: from.length, configurable: true });
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
 * - With `key` (`@CircuitBreaker('carrier', { key: (carrier: string) => carrier })`), `name`
 *   names a family of breakers and each call goes to its key's breaker (`carrier:dhl`), made on
 *   first use; the key function's parameter types must match the method's leading parameters.
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
export function CircuitBreaker<A extends unknown[]>(
  family: string,
  options: CircuitBreakerKeyedOptions<A>,
): KeyedMethodDecorator<A>;
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
  const { layer, fallback, key: keyOf } = splitOptions(options);
  if (keyOf !== undefined) {
    if (name === undefined) {
      throw new TypeError('@CircuitBreaker(name, { key }): a family of breakers needs a name');
    }
    checkFamilyName(name);
  }

  return ((target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (key === undefined || descriptor === undefined) {
      const cls = target as AnyFunction;
      if (keyOf !== undefined) {
        throw new TypeError(
          `@CircuitBreaker("${name}", { key }) on class ${cls.name}: a family of breakers routes method calls; put it on a method`,
        );
      }
      CircuitBreakerMetadataDecorator({
        name: name ?? cls.name,
        key: undefined,
        options: layer,
        fallback,
        className: cls.name,
        methodName: undefined,
        returns: undefined,
      })(cls);
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
    const metadata: CircuitBreakerMetadata = {
      name: name ?? `${className}.${String(key)}`,
      key: keyOf,
      options: layer,
      fallback,
      className,
      methodName: String(key),
      returns:
        original.constructor?.name === 'AsyncFunction'
          ? 'promise'
          : shapeOfReturnType(Reflect.getMetadata('design:returntype', target, key)),
    };
    // The guard replaces the method (calls must be guarded before, and without, a bootstrap); the
    // metadata goes on the guard, next to a copy of every other decorator's metadata.
    const guarded = guardMethod(original as (...a: unknown[]) => unknown, metadata);
    copyFunctionIdentity(original as AnyFunction, guarded);
    descriptor.value = guarded;
    CircuitBreakerMetadataDecorator(metadata)(target, key, descriptor);
    injectRegistryInto(target);
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
