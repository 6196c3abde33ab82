import { ConfigurableModuleBuilder } from '@nestjs/common';
import type {
  CircuitBreakerModuleExtras,
  CircuitBreakerModuleOptions,
} from './interfaces/circuit-breaker-module-options.interface.js';

/**
 * The builder behind `forRoot()` / `forRootAsync()`: it provides the options under
 * `CIRCUIT_BREAKER_MODULE_OPTIONS` and accepts `useFactory`, `useClass` (with
 * `createCircuitBreakerOptions()`), `useExisting`, `inject` and `imports`. The module it builds is
 * the internal, always-global core that owns the registry; `CircuitBreakerModule` wraps it.
 */
export const {
  ConfigurableModuleClass: ConfigurableCircuitBreakerCoreModule,
  MODULE_OPTIONS_TOKEN: CIRCUIT_BREAKER_MODULE_OPTIONS,
  OPTIONS_TYPE: CIRCUIT_BREAKER_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: CIRCUIT_BREAKER_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<CircuitBreakerModuleOptions>({ moduleName: 'CircuitBreaker' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createCircuitBreakerOptions')
  .setExtras<CircuitBreakerModuleExtras>(
    { isGlobal: true, httpErrorFilter: false },
    // The core is global whatever `isGlobal` says: `isGlobal` governs the public module's exports.
    (definition) => ({ ...definition, global: true }),
  )
  .build();

/** `forRoot()`'s argument: module options plus {@link CircuitBreakerModuleExtras}. @publicApi */
export type CircuitBreakerModuleRootOptions = typeof CIRCUIT_BREAKER_OPTIONS_TYPE;

/**
 * `forRootAsync()`'s argument: `imports`, `inject`, and one of `useFactory`, `useClass`,
 * `useExisting`, plus {@link CircuitBreakerModuleExtras}.
 * @publicApi
 */
export type CircuitBreakerModuleAsyncOptions = typeof CIRCUIT_BREAKER_ASYNC_OPTIONS_TYPE;
