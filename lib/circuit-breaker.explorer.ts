import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { BreakerOptionsError, closestName, describeValue } from './core/internal.js';
import { sourceOf } from './circuit-breaker-options.resolver.js';
import { CIRCUIT_BREAKER_REGISTRY } from './circuit-breaker.constants.js';
import type { CircuitBreakerDeclarations } from './circuit-breaker.declarations.js';
import { getCircuitBreakerMetadata } from './circuit-breaker.decorator.js';
import { methodSource } from './circuit-breaker.method-guard.js';
import type { CircuitBreakerRegistry } from './circuit-breaker.registry.js';
import { bindInstance, markLive } from './circuit-breaker.registry-locator.js';
import type { CircuitBreakerMetadata } from './interfaces/circuit-breaker-metadata.interface.js';

/**
 * Finds every `@CircuitBreaker()` in the application when the module starts: checks fallback
 * method names, hands each method's options to the application's declarations, binds static
 * instances to this application's registry (see the registry locator), then has the registry
 * build every breaker, so that any configuration error fails the bootstrap instead of the first
 * call.
 * @internal
 */
@Injectable()
export class CircuitBreakerExplorer implements OnModuleInit {
  constructor(
    // Explicit tokens: the library does not depend on emitted decorator metadata.
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Inject(CIRCUIT_BREAKER_REGISTRY) private readonly registry: CircuitBreakerRegistry,
  ) {}

  onModuleInit(): void {
    const methods = this.explore();
    for (const metadata of methods) this.checkTimeout(metadata);
    this.registry.initialise();
    markLive(this.registry);
  }

  private get declarations(): CircuitBreakerDeclarations {
    return this.registry.declarations;
  }

  /**
   * A synchronous method cannot be timed out (nothing can interrupt it): a `timeout` on its breaker
   * would be a promise the breaker cannot keep, so it fails the bootstrap, naming the method and
   * where the timeout was written.
   */
  private checkTimeout(metadata: CircuitBreakerMetadata): void {
    if (metadata.returns !== 'sync') return;
    const family =
      metadata.key === undefined ? undefined : this.declarations.resolveFamily(metadata.name);
    const timeout =
      family === undefined
        ? this.registry.get(metadata.name).options.timeout
        : (family.resolved.options.timeout ?? 0);
    if (timeout === 0) return;
    const where =
      family === undefined
        ? this.declarations.sourceOf(metadata.name, 'timeout')
        : sourceOf(family.resolved, 'timeout');
    throw new BreakerOptionsError(
      metadata.name,
      'timeout',
      `unset for the synchronous method ${metadata.className}.${metadata.methodName} (a synchronous call cannot be timed out: return a Promise or an Observable, or give the method a breaker without a timeout)`,
      `${describeValue(timeout)}${where === undefined ? '' : ` (in ${where})`}`,
    );
  }

  /** Declares every decorated method and class; returns the methods' metadata. */
  private explore(): CircuitBreakerMetadata[] {
    const methods: CircuitBreakerMetadata[] = [];
    const seen = new Set<object>();
    const wrappers = [...this.discovery.getControllers(), ...this.discovery.getProviders()];
    for (const wrapper of wrappers) {
      const instance: unknown = wrapper.instance;
      if (instance === null || typeof instance !== 'object') continue;
      const prototype: object | null = Object.getPrototypeOf(instance);
      if (prototype === null || prototype === Object.prototype) continue;

      let decorated = false;
      if (!seen.has(prototype)) {
        seen.add(prototype);
        const classMetadata = getCircuitBreakerMetadata(prototype.constructor);
        if (classMetadata !== undefined) this.declareClass(classMetadata);
        for (const methodName of this.scanner.getAllMethodNames(prototype)) {
          const metadata = getCircuitBreakerMetadata(
            (prototype as Record<string, unknown>)[methodName],
          );
          if (metadata === undefined) continue;
          decorated = true;
          this.declareMethod(prototype, metadata);
          methods.push(metadata);
        }
      } else {
        decorated = this.scanner
          .getAllMethodNames(prototype)
          .some((m) => getCircuitBreakerMetadata((prototype as Record<string, unknown>)[m]));
      }
      if (decorated && wrapper.isDependencyTreeStatic()) {
        bindInstance(instance, this.registry);
      }
    }
    return methods;
  }

  private declareClass(metadata: CircuitBreakerMetadata): void {
    const source = `@CircuitBreaker on class ${metadata.className}`;
    if (metadata.fallback !== undefined) {
      throw new BreakerOptionsError(
        metadata.name,
        'fallback',
        `unset on a class-level decorator (${source}); put @CircuitBreaker with a fallback on the method`,
        describeValue(metadata.fallback),
      );
    }
    this.declarations.declareMethod(metadata.name, metadata.options, source);
  }

  private declareMethod(prototype: object, metadata: CircuitBreakerMetadata): void {
    const source = methodSource(metadata);
    const { fallback } = metadata;
    if (typeof fallback === 'string') {
      const target = (prototype as Record<string, unknown>)[fallback];
      if (typeof target !== 'function') {
        const near = closestName(fallback, this.scanner.getAllMethodNames(prototype));
        throw new BreakerOptionsError(
          metadata.name,
          'fallback',
          `the name of a method of ${metadata.className}${near ? ` (did you mean "${near}"?)` : ''} or a function (in ${source})`,
          describeValue(fallback),
        );
      }
    } else if (fallback !== undefined && typeof fallback !== 'function') {
      throw new BreakerOptionsError(
        metadata.name,
        'fallback',
        `a method name or a function (in ${source})`,
        describeValue(fallback),
      );
    }
    if (metadata.key === undefined) {
      this.declarations.declareMethod(metadata.name, metadata.options, source);
    } else {
      this.declarations.declareFamilyMethod(metadata.name, metadata.options, source);
    }
  }
}
