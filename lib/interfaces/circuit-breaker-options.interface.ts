import type { BreakerOptions, FallbackFunction } from '../core/index.js';

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
   * Treat an `HttpException`-like error (any error with a `getStatus()` method) whose status is
   * 4xx as the caller's fault: the call is counted as ignored, neither success nor failure. It is
   * combined with `ignore`. Set `false` to count such errors like any other error.
   * @default true
   */
  ignoreHttpClientErrors?: boolean;
}

/**
 * A fallback for a decorated method: the name of another method of the same class, called with the
 * original arguments followed by the error (`cachedQuote(id, error)`), or a function receiving the
 * error and the arguments (`(error, args) => ...`) with `this` bound to the instance. It answers
 * rejected calls (open circuit, full bulkhead), and also failed ones when the breaker has
 * `fallbackOnFailure: true`.
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
