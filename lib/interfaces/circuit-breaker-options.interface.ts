import type { BreakerOptions, FallbackFunction, KeyOptions } from '../core/index.js';

/**
 * Options of one breaker in the Nest layer: every engine option of `BreakerOptions` except `name`
 * (the name is the key under which the breaker is declared), plus three Nest-level options that are
 * stripped before the engine sees them. Every duration is in milliseconds.
 * @publicApi
 */
export interface CircuitBreakerOptions extends Omit<BreakerOptions, 'name'> {
  /**
   * The named configuration (`forRoot({ configs })`) this breaker starts from. Layers apply in this
   * order, later ones winning key by key: `defaults`, the configuration (after the configurations
   * it extends in turn), the breaker's own options, then `@CircuitBreaker` per-method options.
   */
  extends?: string;
  /**
   * Whether `CircuitBreakerHealthIndicator` reports this breaker when it is not listed explicitly.
   * Set `false` for a breaker in front of an optional dependency, so that its open circuit does not
   * take the instance out of readiness.
   * @default true
   */
  health?: boolean;
  /**
   * Treat an error carrying a 4xx HTTP status as the caller's fault: the call is counted as
   * ignored, neither success nor failure (and no fallback answers it). Recognised, in this order:
   * `getStatus()` (Nest's `HttpException`), `response.status` (axios and `@nestjs/axios`, ky,
   * ofetch, superagent), `response.statusCode` (got), `status` and `statusCode` (undici,
   * `http-errors`, Fastify). `408 Request Timeout` and `429 Too Many Requests` are the dependency's
   * condition and still count as failures. Combined with `ignore`. Set `false` to count every
   * such error like any other error.
   * @default true
   */
  ignoreHttpClientErrors?: boolean;
}

/**
 * A fallback for a decorated method: the name of another method of the same class, called with the
 * original arguments followed by the error (`cachedQuote(id, error)`), or a function receiving the
 * error and the arguments (`(error, args) => ...`) with `this` bound to the instance. It answers
 * refused calls (open circuit, full bulkhead), failed calls and timed-out calls; errors counted as
 * ignored (a 4xx, `ignore`) or as successes (`isFailure` returning `false`) reach the caller.
 * `fallbackOnFailure: false` on the breaker limits it to refused calls.
 * @publicApi
 */
export type CircuitBreakerFallback = string | FallbackFunction;

/**
 * Options of `@CircuitBreaker(name?, options?)`: per-method overrides of the breaker's options (the
 * last layer, see {@link CircuitBreakerOptions.extends}), and the method's own `fallback`.
 * Two methods sharing a breaker must not give it different overrides.
 * @publicApi
 */
export interface CircuitBreakerMethodOptions extends Omit<CircuitBreakerOptions, 'fallback'> {
  /** This method's fallback; see {@link CircuitBreakerFallback}. Checked at bootstrap. */
  fallback?: CircuitBreakerFallback;
}

/**
 * A breaker declared by `CircuitBreakerModule.forFeature()`: its name and its options. A bare
 * name (or `{ name }` alone) only makes the breaker injectable in the feature module.
 * @publicApi
 */
export type CircuitBreakerFeature = string | ({ name: string } & CircuitBreakerOptions);

/**
 * Options of a family of breakers (`forRoot({ families })`): the options every key's breaker
 * shares, as for one breaker (layered the same way: `defaults`, the configuration it `extends`,
 * these, then the `@CircuitBreaker` options of the methods routed to it), plus the bounds of the
 * family and per-key overrides. The family's name is the key it is declared under: a non-empty
 * string without `:`. Every duration is in milliseconds.
 * @publicApi
 */
export interface CircuitBreakerFamilyOptions extends CircuitBreakerOptions {
  /**
   * Most keys kept at once; one more releases the least recently used idle key (see the engine's
   * `BreakerFamilyOptions.maxKeys`). Integer >= 1. @default 1_000
   */
  maxKeys?: number;
  /**
   * How long an idle key is kept after its last use, in milliseconds; `Infinity` for ever.
   * Released lazily, on a later use of the family. @default 600_000 (10 minutes)
   */
  idleTimeout?: number;
  /**
   * Per-key overrides: a function of the key, or a map from a key or a prefix ending in `*` to
   * options (engine options only). A key's own `ignore` is combined with the 4xx rule as the
   * family's is.
   */
  keyOptions?: KeyOptions;
}

/**
 * Options of `@CircuitBreaker(family, { key, ... })`: the per-method options and fallback of
 * {@link CircuitBreakerMethodOptions}, and the function that picks each call's key from the
 * method's arguments. `A` is the list of the method's leading parameters the key function
 * declares: the decorator accepts only a method whose parameters start with them.
 * @publicApi
 */
export interface CircuitBreakerKeyedOptions<
  A extends unknown[],
> extends CircuitBreakerMethodOptions {
  /**
   * The key of a call, from the method's arguments (called with `this` set to the instance): a
   * non-empty string of at most 256 characters. A key function that throws, or returns anything
   * else, fails that call (in the method's shape) without reaching the method.
   */
  key: (...args: A) => string;
}
