import type { ReturnShape } from '../circuit-breaker.invoker.js';
import type {
  CircuitBreakerFallback,
  CircuitBreakerOptions,
} from './circuit-breaker-options.interface.js';

/**
 * What `@CircuitBreaker()` records, on the decorated method's function (read it with
 * `Reflect.getMetadata(CIRCUIT_BREAKER_METADATA, method)`) or on the decorated class.
 * @publicApi
 */
export interface CircuitBreakerMetadata {
  /** The breaker's name (a family's, when `key` is set). */
  readonly name: string;
  /**
   * For a method routed to a family of breakers: the function that picks a call's key from the
   * method's arguments; `undefined` for a method with one breaker.
   */
  readonly key: ((...args: never[]) => unknown) | undefined;
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
