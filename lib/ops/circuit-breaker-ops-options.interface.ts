import type { CanActivate, ModuleMetadata, Type } from '@nestjs/common';

/** A guard for the ops routes: a guard class (instantiated by Nest) or an instance. @publicApi */
export type CircuitBreakerOpsGuard = Type<CanActivate> | CanActivate;

/**
 * Options of `CircuitBreakerOpsModule.forRoot()`. Checked when the application starts: a bad value
 * fails the bootstrap with an error naming the option, what was expected and what was received.
 * @publicApi
 */
export interface CircuitBreakerOpsOptions {
  /**
   * The prefix of every route, without slashes around it (they are trimmed). The default makes the
   * URLs resilience4j's Spring Boot actuator ones: `/actuator/circuitbreakers`.
   * @default 'actuator'
   */
  path?: string;
  /**
   * Guards run on every route (the JSON endpoints, the event stream and the dashboard page), as
   * `@UseGuards(...guards)` on the controller. Required: without one the application refuses to
   * start, unless `allowUnguarded` is `true`. A guard that sets `request.user` names who changed a
   * state (its `id`, `username`, `sub` or `email`); otherwise the client's IP address is recorded.
   */
  guards?: readonly CircuitBreakerOpsGuard[];
  /**
   * Serve the routes without any guard. Only for a network where every client may force a
   * breaker open.
   * @default false
   */
  allowUnguarded?: boolean;
  /**
   * Serve the live dashboard page at `/{path}/circuitbreakers-dashboard` (behind the same guards).
   * @default false
   */
  dashboard?: boolean;
  /**
   * How many recent events each breaker keeps for `/{path}/circuitbreakerevents`, an integer from 1
   * to 100 000. The oldest is dropped when a new one arrives.
   * @default 100
   */
  eventBufferSize?: number;
  /**
   * How often the event stream sends each client a `summary`, in milliseconds (an integer from 100
   * to 3 600 000). One timer serves every client; it runs only while a client is connected.
   * @default 1000
   */
  streamSummaryInterval?: number;
  /**
   * Modules whose providers the guard classes need (a guard class is instantiated in the ops
   * module's scope: global providers are always visible, others must be imported here).
   */
  imports?: ModuleMetadata['imports'];
}
