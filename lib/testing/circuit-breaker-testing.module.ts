import { type DynamicModule, Module } from '@nestjs/common';
import { CIRCUIT_BREAKER_FINAL_LAYERS } from '../circuit-breaker.constants.js';
import type { CircuitBreakerTestingOptions } from './circuit-breaker-testing-options.interface.js';
import { CircuitBreakerTesting } from './circuit-breaker-testing.service.js';
import { ManualClock } from '../core/index.js';
import {
  checkTestingOptions,
  finalLayers,
  type ResolvedTestingOptions,
} from './testing-options.js';
import { CIRCUIT_BREAKER_TESTING_OPTIONS } from './testing.constants.js';

/**
 * Breakers under a test's control: import it next to the application's own module in
 * `Test.createTestingModule()`, then `moduleRef.get(CircuitBreakerTesting)`.
 *
 * ```ts
 * const moduleRef = await Test.createTestingModule({
 *   imports: [
 *     AppModule, // which imports CircuitBreakerModule.forRoot(...)
 *     CircuitBreakerTestingModule.forRoot({ overrides: { payments: { failureThreshold: 1 } } }),
 *   ],
 * }).compile();
 * ```
 *
 * It changes nothing in the application's own configuration (its `forRoot()` or
 * `forRootAsync()` factory runs as written): it hands the registry, when the registry is built,
 * a last layer of options for every breaker, its `ManualClock` and the test's `overrides`.
 * Global; import it once per testing module. Needs no `@nestjs/testing` of its own.
 * @publicApi
 */
@Module({})
export class CircuitBreakerTestingModule {
  /**
   * The testing module, with a `ManualClock` every breaker reads and per-breaker overrides.
   * @throws TypeError or BreakerOptionsError at once for an invalid option.
   */
  static forRoot(options: CircuitBreakerTestingOptions = {}): DynamicModule {
    const checked = checkTestingOptions(options);
    return {
      module: CircuitBreakerTestingModule,
      global: true,
      providers: [
        {
          provide: CIRCUIT_BREAKER_TESTING_OPTIONS,
          // A clock of its own for each application compiled, unless the test gave one.
          useFactory: (): ResolvedTestingOptions => ({
            ...checked,
            clock: checked.clock ?? new ManualClock(),
          }),
        },
        {
          provide: CIRCUIT_BREAKER_FINAL_LAYERS,
          useFactory: finalLayers,
          inject: [CIRCUIT_BREAKER_TESTING_OPTIONS],
        },
        CircuitBreakerTesting,
      ],
      exports: [CIRCUIT_BREAKER_FINAL_LAYERS, CircuitBreakerTesting],
    };
  }
}
