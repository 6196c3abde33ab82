import { Module } from '@nestjs/common';
import { DiscoveryModule, MetadataScanner } from '@nestjs/core';
import { CircuitBreakerRejectionMapper } from './circuit-breaker-rejection.mapper.js';
import { CIRCUIT_BREAKER_REGISTRY } from './circuit-breaker.constants.js';
import { CircuitBreakerExplorer } from './circuit-breaker.explorer.js';
import { ConfigurableCircuitBreakerCoreModule } from './circuit-breaker.module-definition.js';
import { CircuitBreakerRegistry } from './circuit-breaker.registry.js';

/**
 * The always-global core behind `CircuitBreakerModule.forRoot()`: the options, the application's
 * one registry, the explorer and the rejection mapper. It exports the registry under an internal
 * token only, so that `isGlobal: false` still scopes the public `CircuitBreakerRegistry` token,
 * while decorated methods, `forFeature()`, the interceptor and the health indicator reach the
 * registry anywhere; the filter and the interceptor find the mapper anywhere too.
 * Being global also runs its `onModuleInit` before any non-global module's.
 * @internal
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    CircuitBreakerRegistry,
    { provide: CIRCUIT_BREAKER_REGISTRY, useExisting: CircuitBreakerRegistry },
    CircuitBreakerExplorer,
    MetadataScanner,
    CircuitBreakerRejectionMapper,
  ],
  exports: [CIRCUIT_BREAKER_REGISTRY, CircuitBreakerRejectionMapper],
})
export class CircuitBreakerCoreModule extends ConfigurableCircuitBreakerCoreModule {}
