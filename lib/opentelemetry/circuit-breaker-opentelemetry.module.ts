import type { DynamicModule } from '@nestjs/common';
import { CIRCUIT_BREAKER_REGISTRY } from '../circuit-breaker.constants.js';
import type { CircuitBreakerRegistry } from '../circuit-breaker.registry.js';
import type { CircuitBreakerTelemetryOptions } from './circuit-breaker-telemetry-options.interface.js';
import { CircuitBreakerOpenTelemetryService } from './circuit-breaker-opentelemetry.service.js';
import { checkTelemetryOptions } from './telemetry-options.js';

/**
 * OpenTelemetry metrics and span events for every breaker of the application
 * (`CircuitBreakerModule.forRoot()` must be imported too):
 *
 * ```ts
 * @Module({
 *   imports: [CircuitBreakerModule.forRoot(), CircuitBreakerOpenTelemetryModule.forRoot()],
 * })
 * export class AppModule {}
 * ```
 *
 * The instruments are created when the module initialises, on the global meter provider unless
 * `meterProvider` or `meter` is given: start the OpenTelemetry SDK before the application, as
 * its own instrumentations require. Breakers the registry creates later are instrumented too.
 * At shutdown the instruments stop observing and recording this application's breakers.
 * @publicApi
 */
export class CircuitBreakerOpenTelemetryModule {
  /**
   * Instruments the application's breakers; see {@link CircuitBreakerTelemetryOptions} for the
   * options and defaults.
   * @throws TypeError for an invalid option, when called.
   */
  static forRoot(options: CircuitBreakerTelemetryOptions = {}): DynamicModule {
    checkTelemetryOptions(options, 'CircuitBreakerOpenTelemetryModule.forRoot()');
    return {
      module: CircuitBreakerOpenTelemetryModule,
      providers: [
        {
          provide: CircuitBreakerOpenTelemetryService,
          inject: [CIRCUIT_BREAKER_REGISTRY],
          useFactory: (registry: CircuitBreakerRegistry) =>
            new CircuitBreakerOpenTelemetryService(registry, options),
        },
      ],
    };
  }
}
