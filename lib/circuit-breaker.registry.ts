import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import {
  type Breaker,
  type BreakerEventMap,
  BreakerOptionsError,
  type BreakerStats,
  closestName,
  describeValue,
  type Disposable,
} from './core/index.js';
import {
  createCircuitBreaker,
  type NormalizedModuleOptions,
  resolveCircuitBreaker,
  type ResolvedCircuitBreaker,
  sourceOf,
  validateLayer,
  validateModuleOptions,
} from './circuit-breaker-options.resolver.js';
import { CIRCUIT_BREAKER_MODULE_OPTIONS } from './circuit-breaker.module-definition.js';
import { ReportingObservable } from './utils/reporting-observable.js';
import type { CircuitBreakerModuleOptions } from './interfaces/circuit-breaker-module-options.interface.js';
import type {
  CircuitBreakerFeature,
  CircuitBreakerOptions,
} from './interfaces/circuit-breaker-options.interface.js';

/**
 * The event types on `CircuitBreakerRegistry.events$`: the engine's events, without the `open`,
 * `close` and `halfOpen` aliases of `stateChange` (read `event.to` instead), so that each
 * transition appears once.
 * @publicApi
 */
export type CircuitBreakerEventType =
  'stateChange' | 'success' | 'failure' | 'timeout' | 'rejection' | 'ignored';

/**
 * One event of one breaker, as `CircuitBreakerRegistry.events$` delivers it. Discriminated by
 * `type`: `if (e.type === 'stateChange') console.log(e.event.from, e.event.to)`.
 * @publicApi
 */
export type CircuitBreakerEvent = {
  [K in CircuitBreakerEventType]: {
    /** The breaker's name. */
    readonly breaker: string;
    readonly type: K;
    /** The engine's event. */
    readonly event: BreakerEventMap[K];
  };
}[CircuitBreakerEventType];

const EVENT_TYPES: readonly CircuitBreakerEventType[] = [
  'stateChange',
  'success',
  'failure',
  'timeout',
  'rejection',
  'ignored',
];

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

interface Declaration {
  readonly layer: CircuitBreakerOptions;
  readonly source: string;
  /** A bare name in `forFeature()`: a real declaration elsewhere replaces it. */
  readonly reference?: boolean;
}

interface Entry {
  readonly breaker: Breaker;
  readonly health: boolean;
  /** The merged layers, to say where an option's value was written. */
  readonly resolved: ResolvedCircuitBreaker;
  listeners: Disposable[] | undefined;
}

/** Registries of applications that finished initialising and have not shut down. */
const live = new Set<CircuitBreakerRegistry>();

/**
 * The registry of the only initialised application in this process, if there is exactly one.
 * The last resort for a decorated method called on an instance Nest did not build or bind.
 * @internal
 */
export function soleLiveRegistry(): CircuitBreakerRegistry | undefined {
  if (live.size !== 1) return undefined;
  return live.values().next().value;
}

/** @internal The number of initialised applications, for error messages. */
export function liveRegistryCount(): number {
  return live.size;
}

function isPlainData(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return Array.isArray(value) || prototype === Object.prototype || prototype === null;
}

/**
 * Whether two option values are the same: plain objects and arrays (backoff settings, error-class
 * lists) by content, anything else (a store, a clock, a function) by identity: two stores are two
 * places for state even when their fields look alike.
 */
function isEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (!isPlainData(a) || !isPlainData(b)) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const keysA = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const keysB = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((k) =>
    isEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

/** The options two declarations of one breaker disagree on, in the order they were written. */
function differingOptions(a: CircuitBreakerOptions, b: CircuitBreakerOptions): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.filter(
    (k) => !isEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

function conflictingDeclarations(
  name: string,
  first: Declaration,
  second: Declaration,
): BreakerOptionsError {
  const [option, ...others] = differingOptions(first.layer, second.layer);
  const value = (d: Declaration): string => {
    const v = (d.layer as Record<string, unknown>)[option!];
    return v === undefined ? 'unset' : describeValue(v);
  };
  const error = new BreakerOptionsError(
    name,
    option!,
    'the same in every declaration of the breaker',
    `${value(first)} in ${first.source} and ${value(second)} in ${second.source}`,
  );
  if (others.length > 0) error.message += ` (they also differ on ${others.join(', ')})`;
  error.message +=
    '. Declare its options in one place and list it by name elsewhere, or share them with extends';
  return error;
}

function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(
      `A circuit breaker name must be a non-empty string, received ${describeValue(name)}`,
    );
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

  private readonly options: NormalizedModuleOptions;
  private readonly entries = new Map<string, Entry>();
  private readonly declared = new Map<string, Declaration>();
  private readonly methods = new Map<string, Declaration>();
  private readonly subject = new Subject<CircuitBreakerEvent>();
  private observers = 0;
  /** The breaker whose event is being delivered to `events$` subscribers now, if any. */
  private delivering: string | undefined = undefined;
  private phase: 'starting' | 'ready' | 'closed' = 'starting';

  constructor(@Inject(CIRCUIT_BREAKER_MODULE_OPTIONS) options: CircuitBreakerModuleOptions) {
    this.options = validateModuleOptions(options);
    for (const [name, layer] of this.options.breakers) {
      this.declared.set(name, { layer, source: 'CircuitBreakerModule.forRoot({ breakers })' });
    }
    this.events$ = new ReportingObservable<CircuitBreakerEvent>((subscriber) => {
      if (this.phase === 'closed') {
        subscriber.complete();
        return undefined;
      }
      const subscription = this.subject.subscribe(subscriber);
      if (this.observers++ === 0)
        for (const [name, entry] of this.entries) this.attach(name, entry);
      return () => {
        subscription.unsubscribe();
        if (--this.observers === 0) for (const entry of this.entries.values()) this.detach(entry);
      };
    }, this.reportSubscriberError.bind(this));
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
    checkName(name);
    const entry = this.entries.get(name);
    if (entry !== undefined) return entry.breaker;
    this.assertOpen();
    if (!this.declared.has(name) && !this.methods.has(name) && !this.options.autoCreate) {
      throw new UnknownCircuitBreakerError(name, this.names());
    }
    return this.create(name).breaker;
  }

  /**
   * The breaker named `name`, created on the spot if it does not exist yet, from `defaults` and
   * `options` (which may `extend` a configuration). `options` are ignored if the breaker exists.
   * @throws BreakerOptionsError if the options are invalid.
   */
  getOrCreate(name: string, options?: CircuitBreakerOptions): Breaker {
    checkName(name);
    const entry = this.entries.get(name);
    if (entry !== undefined) return entry.breaker;
    this.assertOpen();
    if (options === undefined || this.declared.has(name)) return this.create(name).breaker;
    const source = 'CircuitBreakerRegistry.getOrCreate()';
    this.declared.set(name, { layer: validateLayer({ breaker: name, source }, options), source });
    try {
      return this.create(name).breaker;
    } catch (error) {
      this.declared.delete(name);
      throw error;
    }
  }

  /** Whether a breaker named `name` exists (or is declared and will be created at startup). */
  has(name: string): boolean {
    return this.entries.has(name) || this.declared.has(name) || this.methods.has(name);
  }

  /** The names of every breaker, existing or declared, sorted. */
  names(): string[] {
    return [
      ...new Set([...this.entries.keys(), ...this.declared.keys(), ...this.methods.keys()]),
    ].sort();
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
    live.delete(this);
    for (const entry of this.entries.values()) {
      this.detach(entry);
      entry.breaker.dispose();
    }
    this.subject.complete();
  }

  /** @internal Declares the breakers of one `forFeature()` call. */
  declareFeature(features: readonly CircuitBreakerFeature[], source: string): void {
    for (const feature of features) {
      const name = typeof feature === 'string' ? feature : feature?.name;
      checkName(name);
      const { name: _name, ...rest } = typeof feature === 'string' ? { name } : feature;
      if (Object.keys(rest).length === 0) {
        if (!this.declared.has(name)) {
          this.declared.set(name, { layer: {}, source, reference: true });
        }
        continue;
      }
      const site = { breaker: name, source };
      const layer = validateLayer(site, rest);
      const previous = this.declared.get(name);
      if (previous !== undefined && !previous.reference) {
        // Two modules importing the same feature declare it twice: harmless if they agree.
        if (isEqual(previous.layer, layer)) continue;
        throw conflictingDeclarations(name, previous, { layer, source });
      }
      if (this.entries.has(name)) {
        throw new BreakerOptionsError(
          name,
          'options',
          'declared before the breaker is first used',
          `a declaration in ${source} after it was created`,
        );
      }
      this.declared.set(name, { layer, source });
    }
  }

  /**
   * @internal Records the per-method options of a `@CircuitBreaker()`. Methods sharing a breaker
   * must agree on them.
   */
  declareMethod(name: string, options: CircuitBreakerOptions, source: string): void {
    checkName(name);
    const layer = validateLayer({ breaker: name, source }, options);
    const previous = this.methods.get(name);
    if (previous !== undefined) {
      if (!isEqual(previous.layer, layer)) {
        throw new BreakerOptionsError(
          name,
          '@CircuitBreaker options',
          `the same on every method that shares the breaker (${previous.source} and ${source} differ; move shared options to forRoot or forFeature)`,
          describeValue(layer),
        );
      }
      return;
    }
    const entry = this.entries.get(name);
    if (
      entry !== undefined &&
      Object.keys(layer).some((k) => layer[k as keyof typeof layer] !== undefined)
    ) {
      throw new BreakerOptionsError(
        name,
        '@CircuitBreaker options',
        `unset on ${source}, because the breaker was created before the application initialised (injected with @InjectCircuitBreaker); move them to its declaration`,
        describeValue(layer),
      );
    }
    this.methods.set(name, { layer, source });
  }

  /**
   * @internal Where the value breaker `name` has for `option` was written (`CircuitBreakerModule
   * defaults`, `@CircuitBreaker on X.y`, ...), if the breaker exists and a layer sets it.
   */
  optionSource(name: string, option: string): string | undefined {
    const entry = this.entries.get(name);
    return entry === undefined ? undefined : sourceOf(entry.resolved, option);
  }

  /**
   * @internal Creates every declared breaker, so that invalid options fail the bootstrap, and
   * marks the registry ready. Called by the explorer once it has declared every decorated method.
   */
  initialise(): void {
    if (this.phase !== 'starting') return;
    for (const name of this.names()) if (!this.entries.has(name)) this.create(name);
    this.phase = 'ready';
    live.add(this);
  }

  private create(name: string): Entry {
    const own = this.declared.get(name);
    const method = this.methods.get(name);
    const resolved = resolveCircuitBreaker(name, this.options, own, method);
    const breaker = createCircuitBreaker(resolved);
    const entry: Entry = { breaker, health: resolved.health, resolved, listeners: undefined };
    this.entries.set(name, entry);
    if (this.observers > 0) this.attach(name, entry);
    return entry;
  }

  private attach(name: string, entry: Entry): void {
    if (entry.listeners !== undefined) return;
    entry.listeners = EVENT_TYPES.map((type) =>
      entry.breaker.on(type, (event: unknown) => {
        const outer = this.delivering;
        this.delivering = name;
        try {
          this.subject.next({ breaker: name, type, event } as CircuitBreakerEvent);
        } finally {
          this.delivering = outer;
        }
      }),
    );
  }

  /** An `events$` subscriber threw: report it where the breaker reports its own listeners' errors. */
  private reportSubscriberError(error: unknown): void {
    const name = this.delivering;
    const breaker = name === undefined ? undefined : this.entries.get(name)?.breaker;
    const configured = this.options.defaults?.onCallbackError;
    try {
      if (breaker !== undefined) breaker.options.onCallbackError(error, 'listener', breaker.name);
      else if (typeof configured === 'function') configured(error, 'listener', 'events$');
      else console.error('[nestjs-circuit-breaker] an events$ subscriber threw:', error);
    } catch {
      // The reporter itself threw: nothing else can be done, and no breaker is affected.
    }
  }

  private detach(entry: Entry): void {
    for (const listener of entry.listeners ?? []) listener.dispose();
    entry.listeners = undefined;
  }

  private assertOpen(): void {
    if (this.phase === 'closed') {
      throw new Error(
        'CircuitBreakerRegistry: the application has shut down; its breakers are disposed',
      );
    }
  }
}
