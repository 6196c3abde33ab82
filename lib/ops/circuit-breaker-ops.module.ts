import { Controller, type DynamicModule, type Type, UseGuards } from '@nestjs/common';
import { CIRCUIT_BREAKER_REGISTRY } from '../circuit-breaker.constants.js';
import type { CircuitBreakerRegistry } from '../circuit-breaker.registry.js';
import type {
  CircuitBreakerOpsGuard,
  CircuitBreakerOpsOptions,
} from './circuit-breaker-ops-options.interface.js';
import { CircuitBreakerOpsDashboardController } from './circuit-breaker-ops-dashboard.controller.js';
import { CircuitBreakerOpsController } from './circuit-breaker-ops.controller.js';
import { CIRCUIT_BREAKER_OPS_OPTIONS } from './ops.constants.js';
import { OpsEventLog } from './ops-event-log.js';
import { OpsEventStream } from './ops-event-stream.js';
import { isGuard, type ResolvedOpsOptions, resolveOpsOptions, routePrefix } from './ops-options.js';

/** A controller class of its own for one `forRoot()`: `base`'s routes under `path`, guarded. */
function routesOf(
  base: Type<object>,
  path: string,
  guards: readonly CircuitBreakerOpsGuard[],
): Type<object> {
  const routes = { [base.name]: class extends base {} }[base.name]!;
  Controller(path)(routes);
  if (guards.length > 0) UseGuards(...guards)(routes);
  return routes;
}

/**
 * Ops endpoints for the application's breakers (`CircuitBreakerModule.forRoot()` must be imported
 * too), with resilience4j's Spring Boot actuator paths and payloads: read every breaker, force one
 * open, close or disable it, read recent events, follow a server-sent event stream, and (with
 * `dashboard: true`) a live dashboard page.
 *
 * ```ts
 * @Module({
 *   imports: [
 *     CircuitBreakerModule.forRoot(),
 *     CircuitBreakerOpsModule.forRoot({ guards: [AdminGuard], dashboard: true }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 *
 * Off unless imported. Every route runs `guards`; without one the application refuses to start
 * (unless `allowUnguarded: true`). Works on Express and Fastify.
 * @publicApi
 */
export class CircuitBreakerOpsModule {
  /** The routes under `path`; see {@link CircuitBreakerOpsOptions} for the options and defaults. */
  static forRoot(options: CircuitBreakerOpsOptions): DynamicModule {
    // Checked when the application starts (the options provider below), so that a bad value fails
    // the bootstrap; here only what the routes need, leniently.
    const loose = (options ?? {}) as Partial<Record<keyof CircuitBreakerOpsOptions, unknown>>;
    const path = routePrefix(loose.path) ?? 'actuator';
    const guards = Array.isArray(loose.guards) ? loose.guards.filter(isGuard) : [];
    const controllers = [routesOf(CircuitBreakerOpsController, path, guards)];
    if (loose.dashboard === true) {
      controllers.push(routesOf(CircuitBreakerOpsDashboardController, path, guards));
    }
    return {
      module: CircuitBreakerOpsModule,
      imports: Array.isArray(loose.imports) ? loose.imports : [],
      controllers,
      providers: [
        { provide: CIRCUIT_BREAKER_OPS_OPTIONS, useFactory: () => resolveOpsOptions(options) },
        {
          provide: OpsEventLog,
          useFactory: (registry: CircuitBreakerRegistry, resolved: ResolvedOpsOptions) =>
            new OpsEventLog(registry, resolved.eventBufferSize),
          inject: [CIRCUIT_BREAKER_REGISTRY, CIRCUIT_BREAKER_OPS_OPTIONS],
        },
        {
          provide: OpsEventStream,
          useFactory: (
            registry: CircuitBreakerRegistry,
            log: OpsEventLog,
            resolved: ResolvedOpsOptions,
          ) => new OpsEventStream(registry, log, resolved.streamSummaryInterval),
          inject: [CIRCUIT_BREAKER_REGISTRY, OpsEventLog, CIRCUIT_BREAKER_OPS_OPTIONS],
        },
      ],
    };
  }
}
