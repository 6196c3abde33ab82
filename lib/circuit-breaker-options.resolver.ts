import {
  BREAKER_OPTION_NAMES,
  type BreakerOptions,
  BreakerOptionsError,
  closestName,
  isBreakerOptionsError,
  describeValue,
  mergeBreakerOptions,
  validateOptionValues,
} from './core/internal.js';
import type { CircuitBreakerModuleOptions } from './interfaces/circuit-breaker-module-options.interface.js';
import type { CircuitBreakerOptions } from './interfaces/circuit-breaker-options.interface.js';

/**
 * A module option (not tied to one breaker) is invalid: an unknown key of `forRoot()`, or a
 * problem in `defaults` or `configs`. Thrown when the module starts. Problems in one breaker's
 * options throw the engine's `BreakerOptionsError`, which names the breaker.
 * @publicApi
 */
export class CircuitBreakerModuleOptionsError extends Error {
  /** The option at fault, as a path (`"configs.strict.failureThreshold"`). */
  readonly option: string;
  /** What the option accepts. */
  readonly expected: string;
  /** A description of the value received. */
  readonly received: string;

  constructor(option: string, expected: string, received: string) {
    super(`CircuitBreakerModule: option "${option}" must be ${expected}, received ${received}`);
    this.name = 'CircuitBreakerModuleOptionsError';
    this.option = option;
    this.expected = expected;
    this.received = received;
  }
}

/** Where a layer of options was written, for error messages. */
export type LayerSite =
  /** A breaker's own layer: errors name the breaker (and say where it was declared). */
  | { readonly breaker: string; readonly source?: string }
  /** A module-level layer (`defaults`, `configs.x`): errors name the option path. */
  | { readonly path: string };

/** The Nest-level options, stripped before the engine sees a layer. */
const NEST_KEYS = ['extends', 'health', 'ignoreHttpClientErrors'] as const;
const ENGINE_KEYS = BREAKER_OPTION_NAMES.filter((key) => key !== 'name') as string[];
const LAYER_KEYS = new Set<string>([...ENGINE_KEYS, ...NEST_KEYS]);
const MODULE_KEYS = ['defaults', 'configs', 'breakers', 'autoCreate'];

/** Module options after validation. */
export interface NormalizedModuleOptions {
  readonly defaults: CircuitBreakerOptions | undefined;
  readonly configs: ReadonlyMap<string, CircuitBreakerOptions>;
  readonly breakers: ReadonlyMap<string, CircuitBreakerOptions>;
  readonly autoCreate: boolean;
}

/** One layer of a breaker's options, and where it was written (for error messages). */
export interface SourcedLayer {
  readonly layer: CircuitBreakerOptions | undefined;
  /** `CircuitBreakerModule defaults`, `@CircuitBreaker on PaymentsClient.quote`, ... */
  readonly source: string;
}

/** A breaker's options once every layer is merged: the engine's part and the Nest part. */
export interface ResolvedCircuitBreaker {
  readonly options: BreakerOptions;
  readonly health: boolean;
  readonly ignoreHttpClientErrors: boolean;
  /** The layers, first to last, so an invalid merged value can be traced to where it was written. */
  readonly layers: readonly SourcedLayer[];
}

/** Where the module's `defaults` and `configs` entries are written, in error messages. */
export const DEFAULTS_SOURCE = 'CircuitBreakerModule defaults';
export const configSource = (name: string): string => `CircuitBreakerModule configs.${name}`;

function fail(site: LayerSite, option: string, expected: string, value: unknown): never {
  if ('breaker' in site) {
    const error = new BreakerOptionsError(site.breaker, option, expected, describeValue(value));
    if (site.source !== undefined) error.message += ` (in ${site.source})`;
    throw error;
  }
  throw new CircuitBreakerModuleOptionsError(
    site.path === '' ? option : `${site.path}.${option}`,
    expected,
    describeValue(value),
  );
}

/** An object that is not `null` or an array: what an options object must be. @internal */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function suggestion(name: string, known: Iterable<string>): string {
  const near = closestName(name, known);
  return near === undefined ? '' : ` (did you mean "${near}"?)`;
}

/**
 * Checks the keys and the Nest-level values of one layer of breaker options. Engine values are
 * checked when the breaker is built, on the merged layers, by the engine itself.
 */
export function validateLayer(
  site: LayerSite,
  layer: unknown,
  allow: { extends?: boolean } = {},
): CircuitBreakerOptions {
  if (layer === undefined) return {};
  if (!isPlainObject(layer)) {
    if ('breaker' in site) return fail(site, 'options', 'an object of breaker options', layer);
    throw new CircuitBreakerModuleOptionsError(
      site.path,
      'an object of breaker options',
      describeValue(layer),
    );
  }
  for (const key of Object.keys(layer)) {
    if (LAYER_KEYS.has(key)) continue;
    if (key === 'name') {
      fail(site, key, 'unset: a breaker is named by the key it is declared under', layer[key]);
    }
    fail(
      site,
      key,
      `a known option${suggestion(key, LAYER_KEYS)}; this one is not an option`,
      layer[key],
    );
  }
  if (layer.extends !== undefined) {
    if (allow.extends === false) {
      fail(site, 'extends', 'unset here (only breakers and configs can extend)', layer.extends);
    }
    if (typeof layer.extends !== 'string' || layer.extends === '') {
      fail(site, 'extends', 'the name of a configuration (a non-empty string)', layer.extends);
    }
  }
  for (const key of ['health', 'ignoreHttpClientErrors'] as const) {
    if (layer[key] !== undefined && typeof layer[key] !== 'boolean') {
      fail(site, key, 'a boolean', layer[key]);
    }
  }
  // Every engine value on its own, so that a bad value fails the bootstrap naming the layer it is
  // written in, even before (or without) a breaker that uses the layer.
  const engine = withoutNestKeys(layer as CircuitBreakerOptions);
  try {
    validateOptionValues('breaker' in site ? site.breaker : site.path, engine);
  } catch (error) {
    if (!isBreakerOptionsError(error)) throw error;
    const option = error.option;
    return fail(site, option, error.expected, valueAt(layer, option));
  }
  return layer as CircuitBreakerOptions;
}

/** The value at an option path (`backoff.multiplier`, `ignore[1]`) of a layer. */
function valueAt(layer: Record<string, unknown>, path: string): unknown {
  let value: unknown = layer;
  for (const part of path.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '')) {
    value = (value as Record<string, unknown> | undefined)?.[part];
  }
  return value;
}

function validateRecord(path: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    throw new CircuitBreakerModuleOptionsError(
      path,
      'an object whose keys are names',
      describeValue(value),
    );
  }
  return value;
}

/** Validates `forRoot()` options (or what `forRootAsync()`'s factory returned). */
export function validateModuleOptions(input: unknown): NormalizedModuleOptions {
  if (input === undefined || input === null) input = {};
  if (!isPlainObject(input)) {
    throw new CircuitBreakerModuleOptionsError('options', 'an object', describeValue(input));
  }
  for (const key of Object.keys(input)) {
    if (!MODULE_KEYS.includes(key)) {
      throw new CircuitBreakerModuleOptionsError(
        key,
        `a known module option (${MODULE_KEYS.join(', ')})${suggestion(key, MODULE_KEYS)}`,
        describeValue(input[key]),
      );
    }
  }
  const options = input as CircuitBreakerModuleOptions;
  const defaults =
    options.defaults === undefined
      ? undefined
      : validateLayer({ path: 'defaults' }, options.defaults, { extends: false });

  const configs = new Map<string, CircuitBreakerOptions>();
  for (const [name, layer] of Object.entries(validateRecord('configs', options.configs))) {
    configs.set(name, validateLayer({ path: `configs.${name}` }, layer));
  }
  for (const [name, layer] of configs) {
    if (layer.extends !== undefined) {
      checkExtends({ path: `configs.${name}` }, layer.extends, configs);
    }
    configChain(name, configs);
  }

  const breakers = new Map<string, CircuitBreakerOptions>();
  for (const [name, layer] of Object.entries(validateRecord('breakers', options.breakers))) {
    const site = { breaker: name, source: 'CircuitBreakerModule.forRoot({ breakers })' };
    const validated = validateLayer(site, layer);
    if (validated.extends !== undefined) checkExtends(site, validated.extends, configs);
    breakers.set(name, validated);
  }

  if (options.autoCreate !== undefined && typeof options.autoCreate !== 'boolean') {
    throw new CircuitBreakerModuleOptionsError(
      'autoCreate',
      'a boolean',
      describeValue(options.autoCreate),
    );
  }
  return { defaults, configs, breakers, autoCreate: options.autoCreate ?? false };
}

/** Throws unless `name` is a known configuration. */
export function checkExtends(
  site: LayerSite,
  name: string,
  configs: ReadonlyMap<string, CircuitBreakerOptions>,
): void {
  if (configs.has(name)) return;
  const known = [...configs.keys()];
  fail(
    site,
    'extends',
    known.length === 0
      ? 'the name of a configuration, but forRoot({ configs }) declares none'
      : `the name of a configuration in forRoot({ configs }): ${known.map((k) => `"${k}"`).join(', ')}${suggestion(name, known)}`,
    name,
  );
}

/** The layers of configuration `name`, the one it extends first. Throws on a cycle. */
function configChain(
  name: string,
  configs: ReadonlyMap<string, CircuitBreakerOptions>,
): Array<[string, CircuitBreakerOptions]> {
  const chain: Array<[string, CircuitBreakerOptions]> = [];
  const seen: string[] = [];
  let current: string | undefined = name;
  while (current !== undefined) {
    if (seen.includes(current)) {
      throw new CircuitBreakerModuleOptionsError(
        `configs.${seen[seen.length - 1]}.extends`,
        `a configuration that does not lead back to itself (${[...seen, current].join(' -> ')})`,
        describeValue(current),
      );
    }
    seen.push(current);
    const layer = configs.get(current);
    if (layer === undefined) break;
    chain.unshift([current, layer]);
    current = layer.extends;
  }
  return chain;
}

function withoutNestKeys(layer: CircuitBreakerOptions | undefined): Partial<BreakerOptions> {
  if (layer === undefined) return {};
  const engine: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(layer)) {
    if (!(NEST_KEYS as readonly string[]).includes(key)) engine[key] = value;
  }
  return engine as Partial<BreakerOptions>;
}

function lastDefined<K extends 'health' | 'ignoreHttpClientErrors'>(
  layers: ReadonlyArray<CircuitBreakerOptions | undefined>,
  key: K,
): boolean | undefined {
  let value: boolean | undefined;
  for (const layer of layers) if (layer?.[key] !== undefined) value = layer[key];
  return value;
}

/**
 * Merges a breaker's layers: `defaults`, the configuration chain it extends, its own options,
 * the per-method options, then `last` (the testing module's, which win over all). The per-method
 * `extends` wins over the breaker's own.
 */
export function resolveCircuitBreaker(
  name: string,
  module: NormalizedModuleOptions,
  own: SourcedLayer | undefined,
  method: SourcedLayer | undefined,
  last: readonly SourcedLayer[] = [],
): ResolvedCircuitBreaker {
  const source = method?.source ?? own?.source;
  const site: LayerSite = source === undefined ? { breaker: name } : { breaker: name, source };
  const extendsName = method?.layer?.extends ?? own?.layer?.extends;
  if (extendsName !== undefined) checkExtends(site, extendsName, module.configs);
  const chain = extendsName === undefined ? [] : configChain(extendsName, module.configs);
  const sourced: SourcedLayer[] = [
    { layer: module.defaults, source: DEFAULTS_SOURCE },
    ...chain.map(([config, layer]) => ({ layer, source: configSource(config) })),
    ...(own === undefined ? [] : [own]),
    ...(method === undefined ? [] : [method]),
    ...last,
  ];
  const layers = sourced.map((l) => l.layer);
  return {
    options: { ...mergeBreakerOptions(...layers.map(withoutNestKeys)), name } as BreakerOptions,
    health: lastDefined(layers, 'health') ?? true,
    ignoreHttpClientErrors: lastDefined(layers, 'ignoreHttpClientErrors') ?? true,
    layers: sourced,
  };
}

/**
 * Where the value of `option` (a path such as `backoff.maxDuration`) that the merged options hold
 * was written: the last layer that sets it. `undefined` if no layer does (a default).
 */
export function sourceOf(resolved: ResolvedCircuitBreaker, option: string): string | undefined {
  const key = option.split(/[.[]/)[0]!;
  for (let i = resolved.layers.length - 1; i >= 0; i--) {
    const { layer, source } = resolved.layers[i]!;
    if ((layer as Record<string, unknown> | undefined)?.[key] !== undefined) return source;
  }
  return undefined;
}
