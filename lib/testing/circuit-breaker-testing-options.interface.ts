import type { ManualClock } from '../core/index.js';
import type { CircuitBreakerOptions } from '../interfaces/circuit-breaker-options.interface.js';

/**
 * Options of `CircuitBreakerTestingModule.forRoot()`. Validated when it is called: a bad value
 * throws there, naming the option (and, in `overrides`, the breaker).
 * @publicApi
 */
export interface CircuitBreakerTestingOptions {
  /**
   * The clock every breaker of the application reads, whatever its own options say (it wins over
   * a `clock` in `defaults`, a configuration, a declaration or a `@CircuitBreaker`). Moves only
   * when the test calls `advance()`; read it as `CircuitBreakerTesting.clock`.
   * @default a new `ManualClock()` for each application compiled, reading 0 ms
   */
  clock?: ManualClock;
  /**
   * Options of one breaker for this test, by breaker name (`{ payments: { failureThreshold: 1 } }`):
   * laid over every other layer (`defaults`, configurations, the declaration, `@CircuitBreaker`),
   * key by key, and validated like any breaker option. Not `extends`. A name the application does
   * not declare fails `init()` (unless `autoCreate` is on), so that a typo is not silently ignored.
   * @default {}
   */
  overrides?: Readonly<Record<string, CircuitBreakerOptions>>;
}
