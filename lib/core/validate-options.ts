import { type Clock, systemClock } from './clock.js';
import { isCircuitState } from './circuit-state.js';
import { BreakerOptionsError } from './errors.js';
import type {
  BackoffFunction,
  BreakerOptions,
  CallbackSource,
  FallbackFunction,
  TripPolicyName,
} from './options.js';
import type { CircuitSnapshot } from './snapshot.js';
import type { CircuitStore } from './store/circuit-store.js';

/** The largest delay `setTimeout` honours (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMER_DELAY = 2_147_483_647;

/** The largest `windowSize`: the window keeps one byte per call, so 1 MB per breaker at most. */
export const MAX_WINDOW_SIZE = 1_000_000;

/** The largest `windowBuckets`: two 4-byte counters per bucket. */
export const MAX_WINDOW_BUCKETS = 100_000;

/** A trip policy with every parameter resolved. */
export type PolicyConfig =
  | { readonly kind: 'consecutive'; readonly failureThreshold: number }
  | {
      readonly kind: 'count-window';
      readonly windowSize: number;
      readonly minimumCalls: number;
      readonly failureRateThreshold: number;
    }
  | {
      readonly kind: 'time-window';
      readonly windowDuration: number;
      readonly windowBuckets: number;
      readonly minimumCalls: number;
      readonly failureRateThreshold: number;
    }
  | {
      readonly kind: 'slow-call';
      readonly windowSize: number;
      readonly minimumCalls: number;
      readonly failureRateThreshold: number;
      readonly slowCallDuration: number;
      readonly slowCallRateThreshold: number;
    };

/** Exponential backoff with every parameter resolved. */
export interface ResolvedBackoff {
  readonly multiplier: number;
  readonly maxDuration: number;
  readonly jitter: number;
}

/** What a circuit (in any store) needs to know to make its decisions. */
export interface CircuitConfig {
  readonly policy: PolicyConfig;
  readonly openDuration: number;
  readonly backoff: ResolvedBackoff | BackoffFunction | undefined;
  readonly halfOpenMaxCalls: number;
  readonly probeExpiry: number;
}

/** Every breaker option, validated, with defaults applied. */
export interface ResolvedBreakerOptions {
  readonly name: string;
  readonly circuit: CircuitConfig;
  readonly halfOpenWaitTimeout: number;
  /** 0 when there is no timeout. */
  readonly timeout: number;
  readonly isFailure: ((error: unknown) => boolean) | undefined;
  readonly ignore: ((error: unknown) => boolean) | undefined;
  readonly hasFallback: boolean;
  readonly fallback: unknown;
  readonly fallbackOnFailure: boolean;
  /** 0 when there is no bulkhead. */
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  readonly clock: Clock;
  readonly random: () => number;
  readonly initialState: CircuitSnapshot | undefined;
  readonly store: CircuitStore | undefined;
  readonly onCallbackError: (error: unknown, source: CallbackSource, breaker: string) => void;
  readonly rejectionStackTraces: boolean;
}

/** Defaults of every option that has one. */
export const DEFAULTS = {
  policy: 'consecutive' as TripPolicyName,
  failureThreshold: 5,
  windowSize: 100,
  windowDuration: 60_000,
  windowBuckets: 10,
  minimumCalls: 10,
  failureRateThreshold: 0.5,
  slowCallRateThreshold: 0.5,
  openDuration: 30_000,
  halfOpenMaxCalls: 1,
  halfOpenWaitTimeout: 0,
  probeExpiry: 60_000,
  maxQueue: 0,
  backoffMultiplier: 2,
  backoffMaxDuration: 300_000,
  backoffJitter: 0.2,
} as const;

const POLICIES: readonly TripPolicyName[] = [
  'consecutive',
  'count-window',
  'time-window',
  'slow-call',
];

/** Options that only some policies use, and which. */
const POLICY_OPTIONS: Readonly<Record<string, readonly TripPolicyName[]>> = {
  failureThreshold: ['consecutive'],
  windowSize: ['count-window', 'slow-call'],
  windowDuration: ['time-window'],
  windowBuckets: ['time-window'],
  minimumCalls: ['count-window', 'time-window', 'slow-call'],
  failureRateThreshold: ['count-window', 'time-window', 'slow-call'],
  slowCallDuration: ['slow-call'],
  slowCallRateThreshold: ['slow-call'],
};

/** The name of every option a breaker accepts. */
export const BREAKER_OPTION_NAMES: readonly (keyof BreakerOptions)[] = [
  'name',
  'policy',
  'failureThreshold',
  'windowSize',
  'windowDuration',
  'windowBuckets',
  'minimumCalls',
  'failureRateThreshold',
  'slowCallDuration',
  'slowCallRateThreshold',
  'openDuration',
  'backoff',
  'halfOpenMaxCalls',
  'halfOpenWaitTimeout',
  'probeExpiry',
  'timeout',
  'isFailure',
  'ignore',
  'fallback',
  'fallbackOnFailure',
  'maxConcurrent',
  'maxQueue',
  'clock',
  'random',
  'initialState',
  'store',
  'onCallbackError',
  'rejectionStackTraces',
];
const KNOWN = new Set<string>(BREAKER_OPTION_NAMES);

/** The policy-specific options, by policy (for merging layers of options). */
export function optionsSpecificToOtherPolicies(policy: TripPolicyName): string[] {
  return Object.keys(POLICY_OPTIONS).filter((key) => !POLICY_OPTIONS[key]!.includes(policy));
}

/** Describes a received value for an error message: its value (abridged) and its type. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  switch (typeof value) {
    case 'number':
      return `${value} (number)`;
    case 'string':
      return `${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)} (string)`;
    case 'boolean':
    case 'bigint':
      return `${String(value)} (${typeof value})`;
    case 'function':
      return `a function${value.name ? ` "${value.name}"` : ''}`;
    case 'symbol':
      return `${String(value)} (symbol)`;
    default: {
      if (Array.isArray(value)) return `an array of length ${value.length}`;
      let text: string;
      try {
        text = JSON.stringify(value) ?? String(value);
      } catch {
        text = Object.prototype.toString.call(value);
      }
      return `${text.length > 80 ? `${text.slice(0, 77)}...` : text} (object)`;
    }
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(
        row[j]! + 1,
        row[j - 1]! + 1,
        previous + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1),
      );
      previous = current;
    }
  }
  return row[b.length]!;
}

/** The known name closest to `name`, if one is close enough to be a likely typo. */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3))
    ? best
    : undefined;
}

class Checker {
  constructor(
    readonly breaker: string,
    private readonly source: Record<string, unknown>,
  ) {}

  fail(option: string, expected: string, value: unknown): never {
    throw new BreakerOptionsError(this.breaker, option, expected, describeValue(value));
  }

  value(option: string): unknown {
    return this.source[option];
  }

  integer(option: string, min: number, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.source[option];
    if (value === undefined) return fallback;
    const expected =
      max < Number.MAX_SAFE_INTEGER
        ? `an integer between ${min} and ${max}`
        : min === 0
          ? 'an integer >= 0'
          : `an integer >= ${min}`;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      this.fail(option, expected, value);
    }
    return value;
  }

  duration(
    option: string,
    fallback: number,
    opts: { zero?: boolean; timer?: boolean } = {},
  ): number {
    const value = this.source[option];
    if (value === undefined) return fallback;
    const max = opts.timer ? MAX_TIMER_DELAY : Number.MAX_SAFE_INTEGER;
    const lower = opts.zero ? '>= 0' : '> 0';
    const expected = `a finite number of milliseconds ${lower} and <= ${max}`;
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      (opts.zero ? value < 0 : value <= 0) ||
      value > max
    ) {
      this.fail(option, expected, value);
    }
    return value;
  }

  fraction(option: string, fallback: number): number {
    const value = this.source[option];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 1) {
      const hint =
        typeof value === 'number' && value > 1 && value <= 100
          ? ` (a rate is a fraction: use ${value / 100} for ${value}%)`
          : '';
      this.fail(option, `a fraction in (0, 1]${hint}`, value);
    }
    return value;
  }

  boolean(option: string, fallback: boolean): boolean {
    const value = this.source[option];
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') this.fail(option, 'a boolean', value);
    return value;
  }

  fn<F>(option: string): F | undefined {
    const value = this.source[option];
    if (value === undefined) return undefined;
    if (typeof value !== 'function') this.fail(option, 'a function', value);
    return value as F;
  }
}

function checkPolicyName(check: Checker, value: unknown): TripPolicyName {
  if (typeof value !== 'string' || !POLICIES.includes(value as TripPolicyName)) {
    check.fail('policy', `one of ${POLICIES.map((p) => `"${p}"`).join(', ')}`, value);
  }
  return value as TripPolicyName;
}

function resolvePolicy(check: Checker, options: Record<string, unknown>): PolicyConfig {
  const policy = checkPolicyName(check, options.policy ?? DEFAULTS.policy);
  for (const [option, users] of Object.entries(POLICY_OPTIONS)) {
    if (options[option] !== undefined && !users.includes(policy)) {
      const hint =
        options.policy === undefined
          ? `set policy: "${users[0]}" to use it`
          : `it applies to policy ${users.map((u) => `"${u}"`).join(' or ')}`;
      check.fail(option, `unset while policy is "${policy}" (${hint})`, options[option]);
    }
  }
  switch (policy) {
    case 'consecutive':
      return {
        kind: policy,
        failureThreshold: check.integer('failureThreshold', 1, DEFAULTS.failureThreshold),
      };
    case 'count-window':
    case 'slow-call': {
      const windowSize = check.integer('windowSize', 1, DEFAULTS.windowSize, MAX_WINDOW_SIZE);
      const minimumCalls = check.integer(
        'minimumCalls',
        1,
        Math.min(DEFAULTS.minimumCalls, windowSize),
      );
      if (minimumCalls > windowSize) {
        check.fail(
          'minimumCalls',
          `an integer between 1 and windowSize (${windowSize}), or the circuit could never open`,
          minimumCalls,
        );
      }
      const failureRateThreshold = check.fraction(
        'failureRateThreshold',
        DEFAULTS.failureRateThreshold,
      );
      if (policy === 'count-window') {
        return { kind: policy, windowSize, minimumCalls, failureRateThreshold };
      }
      if (options.slowCallDuration === undefined) {
        check.fail(
          'slowCallDuration',
          'a finite number of milliseconds > 0 (required by policy "slow-call")',
          undefined,
        );
      }
      return {
        kind: policy,
        windowSize,
        minimumCalls,
        failureRateThreshold,
        slowCallDuration: check.duration('slowCallDuration', 0),
        slowCallRateThreshold: check.fraction(
          'slowCallRateThreshold',
          DEFAULTS.slowCallRateThreshold,
        ),
      };
    }
    case 'time-window': {
      const windowDuration = check.duration('windowDuration', DEFAULTS.windowDuration);
      const windowBuckets = check.integer(
        'windowBuckets',
        1,
        DEFAULTS.windowBuckets,
        MAX_WINDOW_BUCKETS,
      );
      if (windowDuration / windowBuckets < 1) {
        check.fail(
          'windowBuckets',
          `an integer between 1 and windowDuration (${windowDuration}), so each bucket spans at least 1 ms`,
          windowBuckets,
        );
      }
      return {
        kind: policy,
        windowDuration,
        windowBuckets,
        minimumCalls: check.integer('minimumCalls', 1, DEFAULTS.minimumCalls),
        failureRateThreshold: check.fraction('failureRateThreshold', DEFAULTS.failureRateThreshold),
      };
    }
  }
}

function resolveBackoff(
  check: Checker,
  value: unknown,
  openDuration: number,
): ResolvedBackoff | BackoffFunction | undefined {
  if (value === undefined || value === false) return undefined;
  if (typeof value === 'function') return value as BackoffFunction;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    check.fail(
      'backoff',
      'false, an object { multiplier, maxDuration, jitter } or a function (attempt, openDuration) => ms',
      value,
    );
  }
  const inner = new Checker(check.breaker, value as Record<string, unknown>);
  for (const key of Object.keys(value)) {
    if (!['multiplier', 'maxDuration', 'jitter'].includes(key)) {
      const near = closestName(key, ['multiplier', 'maxDuration', 'jitter']);
      check.fail(
        `backoff.${key}`,
        `a known backoff option (multiplier, maxDuration, jitter)${near ? `; did you mean "${near}"?` : ''}`,
        (value as Record<string, unknown>)[key],
      );
    }
  }
  const multiplier = inner.value('multiplier') ?? DEFAULTS.backoffMultiplier;
  if (typeof multiplier !== 'number' || !Number.isFinite(multiplier) || multiplier < 1) {
    check.fail('backoff.multiplier', 'a finite number >= 1', multiplier);
  }
  const maxDuration =
    inner.value('maxDuration') ?? Math.max(DEFAULTS.backoffMaxDuration, openDuration);
  if (
    typeof maxDuration !== 'number' ||
    !Number.isFinite(maxDuration) ||
    maxDuration < openDuration
  ) {
    check.fail(
      'backoff.maxDuration',
      `a finite number of milliseconds >= openDuration (${openDuration})`,
      maxDuration,
    );
  }
  const jitter = inner.value('jitter') ?? DEFAULTS.backoffJitter;
  if (typeof jitter !== 'number' || !Number.isFinite(jitter) || jitter < 0 || jitter > 1) {
    check.fail('backoff.jitter', 'a fraction in [0, 1]', jitter);
  }
  return { multiplier, maxDuration, jitter };
}

function toPredicate(
  check: Checker,
  option: string,
  value: unknown,
): ((error: unknown) => boolean) | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'function') return value as (error: unknown) => boolean;
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      if (typeof item !== 'function') check.fail(`${option}[${i}]`, 'an error class', item);
    });
    const classes = value as Array<abstract new (...args: never[]) => unknown>;
    return (error) => classes.some((cls) => error instanceof cls);
  }
  return check.fail(option, 'an array of error classes or a predicate (error) => boolean', value);
}

function validateClock(check: Checker, value: unknown): Clock {
  if (value === undefined) return systemClock;
  const clock = value as Partial<Clock> | null;
  if (
    typeof clock !== 'object' ||
    clock === null ||
    typeof clock.now !== 'function' ||
    typeof clock.setTimeout !== 'function' ||
    typeof clock.clearTimeout !== 'function'
  ) {
    check.fail('clock', 'an object with now(), setTimeout() and clearTimeout()', value);
  }
  return clock as Clock;
}

function validateSnapshot(check: Checker, value: unknown): CircuitSnapshot | undefined {
  if (value === undefined) return undefined;
  const s = value as Partial<CircuitSnapshot> | null;
  if (typeof s !== 'object' || s === null) check.fail('initialState', 'a snapshot object', value);
  if (!isCircuitState(s.state)) {
    check.fail(
      'initialState.state',
      'one of CLOSED, OPEN, HALF_OPEN, FORCED_OPEN, DISABLED',
      s.state,
    );
  }
  const numbers: Array<[keyof CircuitSnapshot, boolean]> = [
    ['generation', true],
    ['since', true],
    ['failedProbes', true],
    ['openedAt', s.state === 'OPEN'],
    ['openUntil', s.state === 'OPEN'],
  ];
  for (const [key, required] of numbers) {
    const v = s[key];
    if (v === undefined && !required) continue;
    const integer = key === 'generation' || key === 'failedProbes';
    if (
      typeof v !== 'number' ||
      !Number.isFinite(v) ||
      Math.abs(v) > Number.MAX_SAFE_INTEGER ||
      (integer && (!Number.isSafeInteger(v) || v < 0))
    ) {
      check.fail(
        `initialState.${key}`,
        integer
          ? 'an integer >= 0'
          : 'a clock reading in ms (a finite number of magnitude <= Number.MAX_SAFE_INTEGER)',
        v,
      );
    }
  }
  if (s.state === 'OPEN' && s.openUntil! < s.openedAt!) {
    check.fail(
      'initialState.openUntil',
      `a clock reading >= initialState.openedAt (${s.openedAt})`,
      s.openUntil,
    );
  }
  const name = (s as { name?: unknown }).name;
  if (name !== undefined && name !== check.breaker) {
    check.fail(
      'initialState.name',
      `this breaker's name ("${check.breaker}") or unset: a snapshot of another breaker`,
      name,
    );
  }
  return s as CircuitSnapshot;
}

function validateStore(check: Checker, value: unknown): CircuitStore | undefined {
  const store = value as CircuitStore | undefined;
  if (
    store !== undefined &&
    (typeof store !== 'object' || store === null || typeof store.bind !== 'function')
  ) {
    check.fail('store', 'a CircuitStore (an object with bind())', store);
  }
  return store;
}

/**
 * How each option's value is checked on its own, whatever the other options say: the same checks
 * `resolveBreakerOptions` makes, minus the rules that relate two options (a window option under
 * another policy, `minimumCalls` above `windowSize`, `maxQueue` without `maxConcurrent`, a missing
 * `slowCallDuration`), which only the merged options can answer.
 */
type ValueCheck = (check: Checker, layer: Record<string, unknown>) => unknown;

const VALUE_CHECKS: Readonly<Record<keyof BreakerOptions, ValueCheck>> = {
  name: (c, l) =>
    (typeof l.name !== 'string' || l.name.trim() === '') &&
    c.fail('name', 'a non-empty string', l.name),
  policy: (c, l) => checkPolicyName(c, l.policy),
  failureThreshold: (c) => c.integer('failureThreshold', 1, 0),
  windowSize: (c) => c.integer('windowSize', 1, 0, MAX_WINDOW_SIZE),
  windowDuration: (c) => c.duration('windowDuration', 0),
  windowBuckets: (c) => c.integer('windowBuckets', 1, 0, MAX_WINDOW_BUCKETS),
  minimumCalls: (c) => c.integer('minimumCalls', 1, 0),
  failureRateThreshold: (c) => c.fraction('failureRateThreshold', 0),
  slowCallDuration: (c) => c.duration('slowCallDuration', 0),
  slowCallRateThreshold: (c) => c.fraction('slowCallRateThreshold', 0),
  openDuration: (c) => c.duration('openDuration', 0),
  // Against the layer's own openDuration, if it sets one: another layer may set it later.
  backoff: (c, l) =>
    resolveBackoff(c, l.backoff, typeof l.openDuration === 'number' ? l.openDuration : 0),
  halfOpenMaxCalls: (c) => c.integer('halfOpenMaxCalls', 1, 0),
  halfOpenWaitTimeout: (c) => c.duration('halfOpenWaitTimeout', 0, { zero: true, timer: true }),
  probeExpiry: (c) => c.duration('probeExpiry', 0),
  timeout: (c) => c.duration('timeout', 0, { timer: true }),
  isFailure: (c) => c.fn('isFailure'),
  ignore: (c, l) => toPredicate(c, 'ignore', l.ignore),
  fallback: () => undefined,
  fallbackOnFailure: (c) => c.boolean('fallbackOnFailure', true),
  maxConcurrent: (c) => c.integer('maxConcurrent', 1, 0),
  maxQueue: (c) => c.integer('maxQueue', 0, 0),
  clock: (c, l) => validateClock(c, l.clock),
  random: (c) => c.fn('random'),
  initialState: (c, l) => validateSnapshot(c, l.initialState),
  store: (c, l) => validateStore(c, l.store),
  onCallbackError: (c) => c.fn('onCallbackError'),
  rejectionStackTraces: (c) => c.boolean('rejectionStackTraces', false),
};

/**
 * Checks one layer of options on its own, before it is merged with others (module `defaults`, a
 * named configuration): unknown keys, and every value set, by the rules that need no other option.
 * Throws a {@link BreakerOptionsError} for the first problem, naming `label` as the breaker.
 */
export function validateOptionValues(label: string, layer: Partial<BreakerOptions>): void {
  const source = layer as Record<string, unknown>;
  const check: Checker = new Checker(label, source);
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const checkValue = KNOWN.has(key) ? VALUE_CHECKS[key as keyof BreakerOptions] : undefined;
    if (checkValue === undefined) {
      const near = closestName(key, KNOWN);
      check.fail(
        key,
        `a known option${near ? ` (did you mean "${near}"?)` : ''}; this one is not an option`,
        value,
      );
    }
    checkValue(check, source);
  }
}

function defaultCallbackError(error: unknown, source: CallbackSource, breaker: string): void {
  console.error(
    `[nestjs-circuit-breaker] a ${source} callback of breaker "${breaker}" threw:`,
    error,
  );
}

/**
 * Validates breaker options and applies defaults. Throws a {@link BreakerOptionsError} naming the
 * breaker, the option, what was expected and what was received, for the first problem found.
 */
export function resolveBreakerOptions(input: BreakerOptions): ResolvedBreakerOptions {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new BreakerOptionsError('<unnamed>', 'options', 'an object', describeValue(input));
  }
  const options = input as unknown as Record<string, unknown>;
  const rawName = options.name;
  const name = typeof rawName === 'string' && rawName.trim() !== '' ? rawName : undefined;
  const check = new Checker(name ?? '<unnamed>', options);
  if (name === undefined) check.fail('name', 'a non-empty string', rawName);

  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) {
      const near = closestName(key, KNOWN);
      check.fail(
        key,
        `a known option${near ? ` (did you mean "${near}"?)` : ''}; this one is not an option`,
        options[key],
      );
    }
  }

  const policy = resolvePolicy(check, options);
  const openDuration = check.duration('openDuration', DEFAULTS.openDuration);
  const circuit: CircuitConfig = {
    policy,
    openDuration,
    backoff: resolveBackoff(check, options.backoff, openDuration),
    halfOpenMaxCalls: check.integer('halfOpenMaxCalls', 1, DEFAULTS.halfOpenMaxCalls),
    probeExpiry: check.duration('probeExpiry', DEFAULTS.probeExpiry),
  };

  const maxConcurrent = check.integer('maxConcurrent', 1, 0);
  const maxQueue = check.integer('maxQueue', 0, DEFAULTS.maxQueue);
  if (options.maxQueue !== undefined && options.maxConcurrent === undefined) {
    check.fail(
      'maxQueue',
      'unset unless maxConcurrent is set (the queue belongs to the bulkhead)',
      maxQueue,
    );
  }

  const store = validateStore(check, options.store);

  const fallback = options.fallback;
  return {
    name: name!,
    circuit,
    halfOpenWaitTimeout: check.duration('halfOpenWaitTimeout', DEFAULTS.halfOpenWaitTimeout, {
      zero: true,
      timer: true,
    }),
    timeout: check.duration('timeout', 0, { timer: true }),
    isFailure: check.fn<(error: unknown) => boolean>('isFailure'),
    ignore: toPredicate(check, 'ignore', options.ignore),
    hasFallback: fallback !== undefined,
    fallback: fallback as FallbackFunction | unknown,
    fallbackOnFailure: check.boolean('fallbackOnFailure', true),
    maxConcurrent,
    maxQueue,
    clock: validateClock(check, options.clock),
    random: check.fn<() => number>('random') ?? Math.random,
    initialState: validateSnapshot(check, options.initialState),
    store,
    onCallbackError:
      check.fn<ResolvedBreakerOptions['onCallbackError']>('onCallbackError') ??
      defaultCallbackError,
    rejectionStackTraces: check.boolean('rejectionStackTraces', false),
  };
}
