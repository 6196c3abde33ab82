import type { Meter, MeterProvider } from '@opentelemetry/api';
import type { Breaker, BreakerEventMap, BreakerFamily, CircuitState } from '../core/index.js';

/**
 * Options of {@link instrumentCircuitBreakers} and `CircuitBreakerOpenTelemetryModule.forRoot()`.
 * @publicApi
 */
export interface CircuitBreakerTelemetryOptions {
  /**
   * The meter provider the instruments are created on, as meter `nestjs-circuit-breaker` with the
   * package's version. Give this or `meter`, not both.
   * @default the global one, `metrics.getMeterProvider()` of `@opentelemetry/api`, read when the
   * instruments are created (so the SDK must be started before)
   */
  meterProvider?: MeterProvider;
  /**
   * A meter of your own to create the instruments on, instead of the package's meter.
   * Give this or `meterProvider`, not both.
   */
  meter?: Meter;
  /**
   * The first part of every instrument's name: `circuit_breaker.state`, `circuit_breaker.call.duration`, ...
   * A valid OpenTelemetry instrument name start (a letter, then letters, digits, `_`, `.`, `-`,
   * `/`), ending with the separator you want (usually `.`). Attribute names are not changed.
   * @default 'circuit_breaker.'
   */
  prefix?: string;
  /**
   * Whether refused calls and state changes add an event (`circuit_breaker.rejected`,
   * `circuit_breaker.state_change`) to the span active where they happen, if there is one.
   * @default true
   */
  spanEvents?: boolean;
  /**
   * Keys of one family (`BreakerFamily`, `registry.family(name)`) given a `circuit_breaker.name`
   * of their own (`<family>:<key>`): the first ones created, and as released keys give their
   * place back; a key keeps its place (or its lack of one) for the life of its breaker. Every
   * other key is recorded as `<family>:__other__` (whose `state` series count its keys in each
   * state), so a family never makes more than `maxKeysPerFamily + 1` names. Every family key's
   * points also carry `circuit_breaker.family`. Span events keep the key's own name. An integer
   * >= 0 (0: every key under `<family>:__other__`).
   * @default 100
   */
  maxKeysPerFamily?: number;
}

/**
 * What the instruments read from an application's breakers: `CircuitBreakerRegistry` satisfies
 * it structurally, so that engine users need no Nest types.
 * @publicApi
 */
export interface CircuitBreakerTelemetrySource {
  /** The breakers that exist now, by name, with their state (read when metrics are collected). */
  snapshot(): Record<string, { readonly state: CircuitState }>;
  /** The names of the families (optional: a source without families). */
  familyNames?(): string[];
  /** The family named `name` (called only for names `familyNames()` returned). */
  family?(name: string): BreakerFamily;
  /** `true` once the application has shut down: nothing is observed from it then. */
  readonly isShutDown: boolean;
  /** Every event of every breaker, delivered synchronously, including breakers created later. */
  readonly events$: {
    subscribe(observer: { next: (event: TelemetrySourceEvent) => void; complete: () => void }): {
      unsubscribe(): void;
    };
  };
}

/** The engine events the instruments count. @publicApi */
export type TelemetryEventType =
  'stateChange' | 'success' | 'failure' | 'timeout' | 'rejection' | 'ignored';

/** One event of one breaker, as a {@link CircuitBreakerTelemetrySource} delivers it. @publicApi */
export type TelemetrySourceEvent = {
  [K in TelemetryEventType]: {
    /** The breaker's name (`<family>:<key>` for a family's breaker). */
    readonly breaker: string;
    /** For a family's breaker: the family's name. */
    readonly family?: string;
    /** For a family's breaker: its key. */
    readonly key?: string;
    readonly type: K;
    readonly event: BreakerEventMap[K];
  };
}[TelemetryEventType];

/**
 * What {@link instrumentCircuitBreakers} instruments: a registry, or engine breakers and
 * families. @publicApi
 */
export type CircuitBreakerTelemetryTarget =
  CircuitBreakerTelemetrySource | Iterable<Breaker | BreakerFamily>;

/**
 * What {@link instrumentCircuitBreakers} returns: a disposable (`{ dispose() }`, the engine's
 * `Disposable` shape).
 * @publicApi
 */
export interface CircuitBreakerTelemetry {
  /**
   * Stops recording and adding span events for the target's breakers. The next collection
   * reports 0 for every state of each of them (so no stale state stays at 1), and then the
   * `state` instrument stops observing them. The instruments themselves stay on the meter: the
   * OpenTelemetry API cannot remove an instrument. Calling it again does nothing.
   */
  dispose(): void;
}
