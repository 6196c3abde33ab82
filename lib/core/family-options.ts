import type { Breaker } from './breaker.js';
import type { CircuitState } from './circuit-state.js';
import type { Clock } from './clock.js';
import { describeValue } from './describe.js';
import { BreakerOptionsError } from './errors.js';
import type { BreakerOptions } from './options.js';
import { resolveBreakerOptions, validateOptionValues } from './validate-options.js';
import { systemClock } from './clock.js';

/** What separates a family's name from a key in its members' names: `carrier:dhl`. */
export const FAMILY_KEY_SEPARATOR = ':';

/** The longest key a family accepts, in UTF-16 code units. */
export const MAX_FAMILY_KEY_LENGTH = 256;

/** The options one key may set for its own breaker: any breaker option but `name`. */
export type KeyOverride = Omit<Partial<BreakerOptions>, 'name'>;

/**
 * Options by key: a function of the key (returning `undefined` for the family's own options), or
 * a map from a key, or a prefix ending in `*` (`'eu-*'`), to options. In a map an exact key wins
 * over prefixes, and the longest matching prefix over shorter ones.
 */
export type KeyOptions =
  ((key: string) => KeyOverride | undefined) | Readonly<Record<string, KeyOverride>>;

/**
 * Options of a {@link BreakerFamily}: the options every member breaker shares (its `name` is the
 * family's), the bounds on how many members it keeps, and per-key overrides.
 */
export interface BreakerFamilyOptions extends BreakerOptions {
  /**
   * The family's name, which its members' names start with (`carrier` → `carrier:dhl`). A
   * non-empty string without `:`.
   */
  name: string;
  /**
   * Most keys kept at once. Creating one more releases the least recently used idle key first;
   * when every key is busy (open, half-open with probes running, held open or disabled by hand,
   * or with calls in flight) the family goes over the cap and counts it (`stats().overCap`)
   * rather than refuse the call. Integer >= 1. @default 1_000
   */
  maxKeys?: number;
  /**
   * How long an idle key is kept after its last use, in milliseconds; `Infinity` keeps keys until
   * the cap needs the room. Released lazily, on a later use of the family (no timer). @default
   * 600_000 (10 minutes)
   */
  idleTimeout?: number;
  /** Per-key option overrides, merged over the family's options; see {@link KeyOptions}. */
  keyOptions?: KeyOptions;
}

/** A key's breaker was created. */
export interface FamilyKeyEvent {
  /** The family's name. */
  readonly family: string;
  readonly key: string;
  /** The key's breaker (named `<family>:<key>`). */
  readonly breaker: Breaker;
}

/**
 * Why a key was released: `capacity` (room for a new key under `maxKeys`), `idle` (unused for
 * `idleTimeout`), `deleted` (`family.delete(key)`).
 */
export type FamilyEvictionReason = 'capacity' | 'idle' | 'deleted';

/** A key's breaker was released (and disposed). */
export interface FamilyEvictionEvent extends FamilyKeyEvent {
  readonly reason: FamilyEvictionReason;
}

/** A family's statistics, counted over its life, as one snapshot. */
export interface FamilyStats {
  readonly name: string;
  /** Keys held now. */
  readonly keys: number;
  readonly maxKeys: number;
  /** In milliseconds; `Infinity` when keys never expire. */
  readonly idleTimeout: number;
  /** Keys held now, by circuit state. */
  readonly states: Readonly<Record<CircuitState, number>>;
  /** Keys created. */
  readonly created: number;
  /** Keys released, by reason. */
  readonly evicted: Readonly<Record<FamilyEvictionReason, number>>;
  /** Keys created while the family was at `maxKeys` with every key busy. */
  readonly overCap: number;
}

/** The family's options, checked. @internal */
export interface ResolvedFamilyOptions {
  readonly name: string;
  readonly maxKeys: number;
  readonly idleTimeout: number;
  readonly clock: Clock;
  /** The members' shared options (without the family's own ones). */
  readonly base: BreakerOptions;
  readonly overrideFor: (key: string) => KeyOverride | undefined;
  readonly onListenerError: (error: unknown) => void;
}

function fail(family: string, option: string, expected: string, value: unknown): never {
  throw new BreakerOptionsError(family, option, expected, describeValue(value));
}

function prefixLookup(
  family: string,
  map: Readonly<Record<string, KeyOverride>>,
): (key: string) => KeyOverride | undefined {
  const exact = new Map<string, KeyOverride>();
  const prefixes: Array<[string, KeyOverride]> = [];
  for (const [pattern, override] of Object.entries(map)) {
    if (typeof override !== 'object' || override === null || Array.isArray(override)) {
      fail(family, `keyOptions["${pattern}"]`, 'an object of breaker options', override);
    }
    if ('name' in override) {
      fail(family, `keyOptions["${pattern}"].name`, 'unset (a key names its breaker)', override);
    }
    validateOptionValues(`${family} (keyOptions["${pattern}"])`, override);
    if (pattern.endsWith('*')) prefixes.push([pattern.slice(0, -1), override]);
    else exact.set(pattern, override);
  }
  prefixes.sort((a, b) => b[0].length - a[0].length);
  return (key) => exact.get(key) ?? prefixes.find(([prefix]) => key.startsWith(prefix))?.[1];
}

/** Checks a family's options, and the shared ones as one breaker's would be. @internal */
export function resolveFamilyOptions(input: BreakerFamilyOptions): ResolvedFamilyOptions {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new BreakerOptionsError('<unnamed>', 'options', 'an object', describeValue(input));
  }
  const { maxKeys = 1_000, idleTimeout = 600_000, keyOptions, ...base } = input;
  const name = base.name;
  if (typeof name !== 'string' || name.trim() === '' || name.includes(FAMILY_KEY_SEPARATOR)) {
    fail(
      typeof name === 'string' && name !== '' ? name : '<unnamed>',
      'name',
      'a non-empty string without ":" (it separates the family from the key)',
      name,
    );
  }
  if (typeof maxKeys !== 'number' || !Number.isSafeInteger(maxKeys) || maxKeys < 1) {
    fail(name, 'maxKeys', 'an integer >= 1', maxKeys);
  }
  if (typeof idleTimeout !== 'number' || Number.isNaN(idleTimeout) || idleTimeout <= 0) {
    fail(name, 'idleTimeout', 'a number of milliseconds > 0, or Infinity', idleTimeout);
  }
  let overrideFor: (key: string) => KeyOverride | undefined;
  if (keyOptions === undefined) overrideFor = () => undefined;
  else if (typeof keyOptions === 'function') overrideFor = keyOptions;
  else if (typeof keyOptions === 'object' && keyOptions !== null && !Array.isArray(keyOptions)) {
    overrideFor = prefixLookup(name, keyOptions);
  } else {
    fail(name, 'keyOptions', 'a function of the key, or an object of options by key', keyOptions);
  }
  // Every member is built from these: a bad shared option fails here, naming the family.
  const resolved = resolveBreakerOptions(base);
  return {
    name,
    maxKeys,
    idleTimeout,
    clock: base.clock ?? systemClock,
    base,
    overrideFor,
    onListenerError: (error) => {
      try {
        resolved.onCallbackError(error, 'listener', name);
      } catch {
        // The reporter itself threw: nothing else can be done, and the family is unaffected.
      }
    },
  };
}

/** Throws unless `key` is a non-empty string of at most {@link MAX_FAMILY_KEY_LENGTH}. @internal */
export function checkFamilyKey(family: string, key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '' || key.length > MAX_FAMILY_KEY_LENGTH) {
    throw new TypeError(
      `Breaker family "${family}": a key must be a non-empty string of at most ` +
        `${MAX_FAMILY_KEY_LENGTH} characters, received ${describeValue(key)}`,
    );
  }
}
