import {
  BreakerOptionsError,
  describeValue,
  FAMILY_KEY_SEPARATOR,
  type KeyOptions,
} from './core/internal.js';
import {
  checkExtends,
  type NormalizedModuleOptions,
  resolveCircuitBreaker,
  type ResolvedCircuitBreaker,
  type SourcedLayer,
  sourceOf,
  validateLayer,
  validateModuleOptions,
} from './circuit-breaker-options.resolver.js';
import type {
  CircuitBreakerFamilyOptions,
  CircuitBreakerFeature,
  CircuitBreakerOptions,
} from './interfaces/circuit-breaker-options.interface.js';

interface Declaration extends SourcedLayer {
  readonly layer: CircuitBreakerOptions;
  /** A bare name in `forFeature()`: a real declaration elsewhere replaces it. */
  readonly reference?: boolean;
}

const FOR_ROOT_SOURCE = 'CircuitBreakerModule.forRoot({ breakers })';
const FOR_ROOT_FAMILIES = 'CircuitBreakerModule.forRoot({ families })';

/** What only a family has: its bounds and per-key overrides (the engine checks their values). */
export interface FamilyBounds {
  readonly maxKeys?: number;
  readonly idleTimeout?: number;
  readonly keyOptions?: KeyOptions;
}

/** A family's options once every layer is merged, and where its own were written. @internal */
export interface ResolvedFamily {
  readonly resolved: ResolvedCircuitBreaker;
  readonly bounds: FamilyBounds;
  readonly source: string | undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Throws unless `name` can name a family: a non-empty string without the key separator. */
export function checkFamilyName(name: unknown): asserts name is string {
  checkBreakerName(name);
  if (name.includes(FAMILY_KEY_SEPARATOR)) {
    throw new BreakerOptionsError(
      name,
      'name',
      `a family name without "${FAMILY_KEY_SEPARATOR}" (it separates the family from the key in its breakers' names)`,
      describeValue(name),
    );
  }
}

/** Splits `families` off the module options (validated here, the rest by the resolver). */
function splitFamilies(options: unknown): {
  rest: unknown;
  families: Map<string, Declaration & { bounds: FamilyBounds }>;
} {
  const families = new Map<string, Declaration & { bounds: FamilyBounds }>();
  if (!isRecord(options) || !('families' in options)) return { rest: options, families };
  const { families: input, ...rest } = options;
  if (input === undefined) return { rest, families };
  if (!isRecord(input)) {
    throw new BreakerOptionsError(
      'families',
      'families',
      'an object whose keys are family names',
      describeValue(input),
    );
  }
  for (const [name, value] of Object.entries(input)) {
    checkFamilyName(name);
    const site = { breaker: name, source: FOR_ROOT_FAMILIES };
    if (!isRecord(value)) validateLayer(site, value);
    const { maxKeys, idleTimeout, keyOptions, ...own } = (value ??
      {}) as CircuitBreakerFamilyOptions;
    const layer = validateLayer(site, own);
    families.set(name, {
      layer,
      source: FOR_ROOT_FAMILIES,
      bounds: { maxKeys, idleTimeout, keyOptions },
    });
  }
  return { rest, families };
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

/** Throws unless `name` is a non-empty string. */
export function checkBreakerName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(
      `A circuit breaker name must be a non-empty string, received ${describeValue(name)}`,
    );
  }
}

/**
 * Every declaration of every breaker of one application, and the layers they resolve to. Pure
 * bookkeeping (no breaker, no Nest): the module's validated options (`defaults`, `configs`,
 * `forRoot({ breakers })`), `forFeature()` and `getOrCreate()` declarations (one per breaker;
 * equal ones are one, different ones throw naming both), and `@CircuitBreaker()` per-method layers
 * (methods sharing a breaker must agree). A breaker that has been built is sealed: a later
 * declaration that would change it throws.
 * @internal
 */
export class CircuitBreakerDeclarations {
  readonly module: NormalizedModuleOptions;

  private readonly declared = new Map<string, Declaration>();
  private readonly methods = new Map<string, Declaration>();
  private readonly sealed = new Set<string>();
  private readonly families: ReadonlyMap<string, Declaration & { bounds: FamilyBounds }>;
  private readonly familyMethods = new Map<string, Declaration>();

  /** @throws CircuitBreakerModuleOptionsError or BreakerOptionsError for invalid module options. */
  constructor(options: unknown) {
    const { rest, families } = splitFamilies(options);
    this.module = validateModuleOptions(rest);
    for (const [name, layer] of this.module.breakers) {
      this.declared.set(name, { layer, source: FOR_ROOT_SOURCE });
    }
    for (const [name, family] of families) {
      if (family.layer.extends !== undefined) {
        checkExtends(
          { breaker: name, source: family.source },
          family.layer.extends,
          this.module.configs,
        );
      }
    }
    this.families = families;
  }

  /** Whether `name` is a family declared anywhere (`forRoot({ families })` or a keyed method). */
  hasFamily(name: string): boolean {
    return this.families.has(name) || this.familyMethods.has(name);
  }

  /** Every declared family name, unsorted. */
  familyNames(): string[] {
    return [...new Set([...this.families.keys(), ...this.familyMethods.keys()])];
  }

  /** Records the per-method options of a `@CircuitBreaker(family, { key })`. */
  declareFamilyMethod(name: string, options: CircuitBreakerOptions, source: string): void {
    checkFamilyName(name);
    this.declareIn(this.familyMethods, name, options, source);
  }

  /** The merged options of family `name`, and its bounds. */
  resolveFamily(name: string): ResolvedFamily {
    const own = this.families.get(name);
    return {
      resolved: resolveCircuitBreaker(name, this.module, own, this.familyMethods.get(name)),
      bounds: own?.bounds ?? {},
      source: own?.source ?? this.familyMethods.get(name)?.source,
    };
  }

  /**
   * Throws if a family's name is also a breaker's, or the start (`family:`) of one: the names of
   * the family's breakers would be ambiguous.
   */
  checkFamilyNames(also?: string): void {
    const breakers = also === undefined ? this.names() : [...this.names(), also];
    for (const family of this.familyNames()) {
      const prefix = `${family}${FAMILY_KEY_SEPARATOR}`;
      const clash = breakers.find((b) => b === family || b.startsWith(prefix));
      if (clash === undefined) continue;
      const where = this.declared.get(clash)?.source ?? this.methods.get(clash)?.source;
      throw new BreakerOptionsError(
        family,
        'name',
        `a family name no breaker is named (nor starts with "${prefix}"): its breakers are named "${prefix}<key>"`,
        `a breaker named "${clash}"${where === undefined ? '' : ` (in ${where})`}`,
      );
    }
  }

  /** Whether `name` is declared anywhere (module, feature, `getOrCreate()` or a method). */
  has(name: string): boolean {
    return this.declared.has(name) || this.methods.has(name);
  }

  /** Whether `name` has a declaration of its own (module, feature or `getOrCreate()`). */
  isDeclared(name: string): boolean {
    return this.declared.has(name);
  }

  /** Every declared name, unsorted. */
  names(): string[] {
    return [...new Set([...this.declared.keys(), ...this.methods.keys()])];
  }

  /** Declares the breakers of one `forFeature()` call. */
  declareFeature(features: readonly CircuitBreakerFeature[], source: string): void {
    for (const feature of features) {
      const name = typeof feature === 'string' ? feature : feature?.name;
      checkBreakerName(name);
      const { name: _name, ...rest } = typeof feature === 'string' ? { name } : feature;
      if (Object.keys(rest).length === 0) {
        if (!this.declared.has(name)) {
          this.declared.set(name, { layer: {}, source, reference: true });
        }
        continue;
      }
      const layer = validateLayer({ breaker: name, source }, rest);
      const previous = this.declared.get(name);
      if (previous !== undefined && !previous.reference) {
        // Two modules importing the same feature declare it twice: harmless if they agree.
        if (isEqual(previous.layer, layer)) continue;
        throw conflictingDeclarations(name, previous, { layer, source });
      }
      if (this.sealed.has(name)) {
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
   * Declares a breaker that has no declaration yet, with `options` (`getOrCreate()`). Undone by
   * {@link withdraw} if the breaker cannot be built.
   */
  declare(name: string, options: CircuitBreakerOptions, source: string): void {
    this.declared.set(name, { layer: validateLayer({ breaker: name, source }, options), source });
  }

  /** Forgets the declaration {@link declare} made. */
  withdraw(name: string): void {
    this.declared.delete(name);
  }

  /** Records the per-method options of a `@CircuitBreaker()`. Methods sharing a breaker agree. */
  declareMethod(name: string, options: CircuitBreakerOptions, source: string): void {
    checkBreakerName(name);
    this.declareIn(this.methods, name, options, source);
  }

  private declareIn(
    methods: Map<string, Declaration>,
    name: string,
    options: CircuitBreakerOptions,
    source: string,
  ): void {
    const layer = validateLayer({ breaker: name, source }, options);
    const previous = methods.get(name);
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
    if (
      this.sealed.has(name) &&
      Object.keys(layer).some((k) => layer[k as keyof typeof layer] !== undefined)
    ) {
      throw new BreakerOptionsError(
        name,
        '@CircuitBreaker options',
        `unset on ${source}, because the breaker was created before the application initialised (injected with @InjectCircuitBreaker); move them to its declaration`,
        describeValue(layer),
      );
    }
    methods.set(name, { layer, source });
  }

  /**
   * The options of breaker `name`, every layer merged (`defaults`, the configurations it extends,
   * its own declaration, its methods' options), with where each layer was written.
   */
  resolve(name: string): ResolvedCircuitBreaker {
    return resolveCircuitBreaker(
      name,
      this.module,
      this.declared.get(name),
      this.methods.get(name),
    );
  }

  /** Marks breaker `name` as built: declarations that would change it now throw. */
  seal(name: string): void {
    this.sealed.add(name);
  }

  /**
   * Where the value breaker `name` has for `option` was written (`CircuitBreakerModule defaults`,
   * `@CircuitBreaker on X.y`, ...), if a layer sets it.
   */
  sourceOf(name: string, option: string): string | undefined {
    return sourceOf(this.resolve(name), option);
  }
}
