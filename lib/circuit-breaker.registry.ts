import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Observable } from 'rxjs';
import {
  Breaker,
  BreakerFamily,
  type BreakerFamilyOptions,
  type BreakerOptions,
  BreakerOptionsError,
  type BreakerStats,
  closestName,
  type FamilyStats,
  resolveBreakerOptions,
} from './core/internal.js';
import { type ResolvedCircuitBreaker, sourceOf } from './circuit-breaker-options.resolver.js';
import {
  checkBreakerName,
  CircuitBreakerDeclarations,
  type ResolvedFamily,
} from './circuit-breaker.declarations.js';
import { type CircuitBreakerEvent, CircuitBreakerEventStream } from './circuit-breaker.events.js';
import { CIRCUIT_BREAKER_MODULE_OPTIONS } from './circuit-breaker.module-definition.js';
import { isHttpClientError } from './utils/http.util.js';
import type { CircuitBreakerModuleOptions } from './interfaces/circuit-breaker-module-options.interface.js';
import type {
  CircuitBreakerFeature,
  CircuitBreakerOptions,
} from './interfaces/circuit-breaker-options.interface.js';

/**
 * `CircuitBreakerRegistry.get()` was asked for a breaker that was never declared, while
 * `autoCreate` is off. The message lists the known breakers and suggests the closest name.
 * @publicApi
 */
export class UnknownCircuitBreakerError extends Error {
  constructor(
    /** The name asked for. */
    readonly breakerName: string,
    /** The breakers the registry knows. */
    readonly known: readonly string[],
  ) {
    const near = closestName(breakerName, known);
    super(
      `Unknown circuit breaker "${breakerName}"${near ? ` (did you mean "${near}"?)` : ''}. ` +
        `Known breakers: ${known.length > 0 ? known.map((k) => `"${k}"`).join(', ') : 'none'}. ` +
        'Declare it in CircuitBreakerModule.forRoot({ breakers }) or forFeature(), name it in ' +
        '@CircuitBreaker(), create it with registry.getOrCreate(), or set autoCreate: true.',
    );
    this.name = 'UnknownCircuitBreakerError';
  }
}

/**
 * `CircuitBreakerRegistry.family()` was asked for a family that was never declared. The message
 * lists the known families and suggests the closest name.
 * @publicApi
 */
export class UnknownCircuitBreakerFamilyError extends Error {
  constructor(
    /** The name asked for. */
    readonly familyName: string,
    /** The families the registry knows. */
    readonly known: readonly string[],
  ) {
    const near = closestName(familyName, known);
    super(
      `Unknown circuit breaker family "${familyName}"${near ? ` (did you mean "${near}"?)` : ''}. ` +
        `Known families: ${known.length > 0 ? known.map((k) => `"${k}"`).join(', ') : 'none'}. ` +
        'Declare it in CircuitBreakerModule.forRoot({ families }) or with @CircuitBreaker(name, { key }).',
    );
    this.name = 'UnknownCircuitBreakerFamilyError';
  }
}

interface Entry {
  readonly breaker: Breaker;
  readonly health: boolean;
}

interface FamilyEntry {
  readonly family: BreakerFamily;
  readonly health: boolean;
}

/**
 * Validates a breaker's merged layers with the engine (which throws `BreakerOptionsError` naming
 * the breaker and the option; here the layer that set it is added).
 */
function checkResolved(resolved: ResolvedCircuitBreaker): ReturnType<typeof resolveBreakerOptions> {
  try {
    return resolveBreakerOptions(resolved.options);
  } catch (error) {
    if (error instanceof BreakerOptionsError) {
      const source = sourceOf(resolved, error.option) ?? resolved.layers.at(-1)?.source;
      if (source !== undefined && resolved.layers.length > 1) error.message += ` (in ${source})`;
    }
    throw error;
  }
}

/** The Nest default classification (a 4xx is the caller's fault), added to `ignore`. */
function withHttpClientRule(
  options: BreakerOptions,
  own: ((error: unknown) => boolean) | undefined,
): BreakerOptions {
  const ignore =
    own === undefined
      ? isHttpClientError
      : (error: unknown): boolean => isHttpClientError(error) || own(error);
  return { ...options, ignore };
}

/** Builds the engine's breaker from its merged layers. */
function createBreaker(resolved: ResolvedCircuitBreaker): Breaker {
  const checked = checkResolved(resolved);
  if (!resolved.ignoreHttpClientErrors) return new Breaker(resolved.options);
  return new Breaker(withHttpClientRule(resolved.options, checked.ignore));
}

/** A family whose breakers get the 4xx rule (after their key's own options) when it applies. */
class RegistryFamily extends BreakerFamily {
  constructor(
    options: BreakerFamilyOptions,
    private readonly httpClientRule: boolean,
  ) {
    super(options);
  }

  protected override createMember(options: BreakerOptions): Breaker {
    if (!this.httpClientRule) return new Breaker(options);
    return new Breaker(withHttpClientRule(options, resolveBreakerOptions(options).ignore));
  }
}

/** Builds a family from its merged layers and bounds. */
function createFamily({ resolved, bounds, source }: ResolvedFamily): BreakerFamily {
  checkResolved(resolved);
  try {
    return new RegistryFamily({ ...resolved.options, ...bounds }, resolved.ignoreHttpClientErrors);
  } catch (error) {
    if (error instanceof BreakerOptionsError && source !== undefined) {
      error.message += ` (in ${source})`;
    }
    throw error;
  }
}

/**
 * Every circuit breaker of the application, by name. Inject it to read or control breakers:
 *
 * ```ts
 * constructor(private readonly breakers: CircuitBreakerRegistry) {}
 * this.breakers.get('payments').isolate();
 * ```
 *
 * Breakers are validated and created when the module starts; all of them are disposed when the
 * application shuts down (calls already running finish and are counted), and `events$` completes.
 * One registry per application: two Nest applications in one process never share a breaker.
 * @publicApi
 */
@Injectable()
export class CircuitBreakerRegistry implements OnApplicationShutdown {
  /**
   * Every event of every breaker, including breakers created later, as one stream. The engine's
   * listeners are attached only while someone subscribes. Completes on application shutdown.
   * A subscriber that throws (directly or at the end of `pipe(...)`) is reported like a throwing
   * engine listener, to the `onCallbackError` of the breaker whose event it was handling (by
   * default `console.error`), and stays subscribed; it never reaches the call or the process.
   */
  readonly events$: Observable<CircuitBreakerEvent>;

  /**
   * @internal What the application declares: the module's options, `forFeature()`, and the
   * `@CircuitBreaker()` methods. The registry builds its breakers from it.
   */
  readonly declarations: CircuitBreakerDeclarations;

  private readonly entries = new Map<string, Entry>();
  private readonly familyEntries = new Map<string, FamilyEntry>();
  private readonly stream: CircuitBreakerEventStream;
  private phase: 'starting' | 'ready' | 'closed' = 'starting';

  constructor(@Inject(CIRCUIT_BREAKER_MODULE_OPTIONS) options: CircuitBreakerModuleOptions) {
    this.declarations = new CircuitBreakerDeclarations(options);
    this.stream = new CircuitBreakerEventStream(this.declarations.module.defaults?.onCallbackError);
    this.events$ = this.stream.events$;
  }

  /** Whether the module has finished starting (every breaker validated and created). */
  get isReady(): boolean {
    return this.phase === 'ready';
  }

  /** Whether the application has shut down (every breaker is disposed). */
  get isShutDown(): boolean {
    return this.phase === 'closed';
  }

  /**
   * The breaker named `name`. A name that was never declared (in `forRoot`, `forFeature` or a
   * `@CircuitBreaker()`) throws an {@link UnknownCircuitBreakerError}, unless `autoCreate` is on,
   * in which case the breaker is created from `defaults`.
   */
  get(name: string): Breaker {
    checkBreakerName(name);
    const entry = this.entries.get(name);
    if (entry !== undefined) return entry.breaker;
    this.assertOpen();
    if (!this.declarations.has(name) && !this.declarations.module.autoCreate) {
      throw new UnknownCircuitBreakerError(name, this.names());
    }
    return this.create(name);
  }

  /**
   * The breaker named `name`, created on the spot if it does not exist yet, from `defaults` and
   * `options` (which may `extend` a configuration). `options` are ignored if the breaker exists.
   * @throws BreakerOptionsError if the options are invalid.
   */
  getOrCreate(name: string, options?: CircuitBreakerOptions): Breaker {
    checkBreakerName(name);
    const entry = this.entries.get(name);
    if (entry !== undefined) return entry.breaker;
    this.assertOpen();
    if (options === undefined || this.declarations.isDeclared(name)) return this.create(name);
    this.declarations.declare(name, options, 'CircuitBreakerRegistry.getOrCreate()');
    try {
      return this.create(name);
    } catch (error) {
      this.declarations.withdraw(name);
      throw error;
    }
  }

  /** Whether a breaker named `name` exists (or is declared and will be created at startup). */
  has(name: string): boolean {
    return this.entries.has(name) || this.declarations.has(name);
  }

  /** The names of every breaker, existing or declared, sorted. */
  names(): string[] {
    return [...new Set([...this.entries.keys(), ...this.declarations.names()])].sort();
  }

  /** A consistent statistics snapshot of every breaker, keyed by name, sorted by name. */
  snapshot(): Record<string, BreakerStats> {
    const result: Record<string, BreakerStats> = {};
    for (const name of [...this.entries.keys()].sort()) {
      result[name] = this.entries.get(name)!.breaker.stats();
    }
    return result;
  }

  /**
   * The family of breakers named `name` (declared in `forRoot({ families })` or by a
   * `@CircuitBreaker(name, { key })` method): `registry.family('carrier').get('dhl')`. Its
   * breakers' events are on `events$`, with `family` and `key`; they are not in {@link names},
   * {@link get} or {@link snapshot} (a family may hold thousands).
   * @throws UnknownCircuitBreakerFamilyError for a family that was never declared.
   */
  family(name: string): BreakerFamily {
    checkBreakerName(name);
    const entry = this.familyEntries.get(name);
    if (entry !== undefined) return entry.family;
    this.assertOpen();
    if (!this.declarations.hasFamily(name)) {
      throw new UnknownCircuitBreakerFamilyError(name, this.familyNames());
    }
    return this.createFamily(name);
  }

  /** Whether a family named `name` exists (or is declared and will be created at startup). */
  hasFamily(name: string): boolean {
    return this.familyEntries.has(name) || this.declarations.hasFamily(name);
  }

  /** The names of every family, existing or declared, sorted. */
  familyNames(): string[] {
    return [...new Set([...this.familyEntries.keys(), ...this.declarations.familyNames()])].sort();
  }

  /** The statistics of every family (keys by state, creations, releases), sorted by name. */
  familySnapshot(): Record<string, FamilyStats> {
    const result: Record<string, FamilyStats> = {};
    for (const name of [...this.familyEntries.keys()].sort()) {
      result[name] = this.familyEntries.get(name)!.family.stats();
    }
    return result;
  }

  /**
   * Whether the health indicator reports family `name` when it is not listed explicitly (its
   * `health` option). `undefined` for an unknown family.
   */
  isFamilyHealthChecked(name: string): boolean | undefined {
    return this.familyEntries.get(name)?.health;
  }

  /**
   * Whether the health indicator reports breaker `name` when it is not listed explicitly (its
   * `health` option). `undefined` for an unknown breaker.
   */
  isHealthChecked(name: string): boolean | undefined {
    return this.entries.get(name)?.health;
  }

  /**
   * Disposes every breaker (calls already running finish and are still counted) and completes
   * `events$`. Runs after the HTTP server has stopped taking requests and drained.
   */
  onApplicationShutdown(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.stream.detachAll();
    for (const entry of this.entries.values()) entry.breaker.dispose();
    for (const entry of this.familyEntries.values()) entry.family.dispose();
    this.stream.complete();
  }

  /** @internal Declares the breakers of one `forFeature()` call; see `declarations`. */
  declareFeature(features: readonly CircuitBreakerFeature[], source: string): void {
    this.declarations.declareFeature(features, source);
  }

  /** @internal Records the options of a `@CircuitBreaker(name, { key })`; see `declarations`. */
  declareFamilyMethod(name: string, options: CircuitBreakerOptions, source: string): void {
    this.declarations.declareFamilyMethod(name, options, source);
  }

  /** @internal Records the per-method options of a `@CircuitBreaker()`; see `declarations`. */
  declareMethod(name: string, options: CircuitBreakerOptions, source: string): void {
    this.declarations.declareMethod(name, options, source);
  }

  /**
   * @internal Creates every declared breaker, so that invalid options fail the bootstrap, and
   * marks the registry ready. Called by the explorer once it has declared every decorated method.
   */
  initialise(): void {
    if (this.phase !== 'starting') return;
    this.declarations.checkFamilyNames();
    for (const name of this.names()) if (!this.entries.has(name)) this.create(name);
    for (const name of this.familyNames()) {
      if (!this.familyEntries.has(name)) this.createFamily(name);
    }
    this.phase = 'ready';
  }

  private createFamily(name: string): BreakerFamily {
    // After startup (a family first declared by an instance built later), check it here.
    if (this.phase === 'ready') this.declarations.checkFamilyNames();
    const resolved = this.declarations.resolveFamily(name);
    const family = createFamily(resolved);
    this.familyEntries.set(name, { family, health: resolved.resolved.health });
    this.declarations.seal(name);
    family.onKeyCreated(({ key, breaker }) =>
      this.stream.add(breaker.name, breaker, { family: name, key }),
    );
    family.onKeyEvicted(({ breaker }) => this.stream.remove(breaker.name));
    return family;
  }

  private create(name: string): Breaker {
    if (this.phase === 'ready') this.declarations.checkFamilyNames(name);
    const resolved = this.declarations.resolve(name);
    const breaker = createBreaker(resolved);
    this.entries.set(name, { breaker, health: resolved.health });
    this.declarations.seal(name);
    this.stream.add(name, breaker);
    return breaker;
  }

  private assertOpen(): void {
    if (this.phase === 'closed') {
      throw new Error(
        'CircuitBreakerRegistry: the application has shut down; its breakers are disposed',
      );
    }
  }
}
