import type { CircuitConfig, PolicyConfig } from './circuit-config.js';
import { closestName, describeValue } from './describe.js';
import { BreakerOptionsError } from './errors.js';
import { OptionChecker } from './option-checker.js';
import type { BreakerOptions, CallbackSource, FallbackFunction } from './options.js';
import {
  POLICIES,
  POLICY_LIST,
  POLICY_NAMES,
  POLICY_OPTION_USERS,
  type PolicyOptionKey,
} from './policies/index.js';
import type { OptionRead } from './policies/policy-descriptor.js';
import type { TripPolicyName } from './policies/policy-name.js';
import { DEFAULTS, type ResolvedBreakerOptions } from './resolved-options.js';
import {
  resolveBackoff,
  toPredicate,
  validateClock,
  validateSnapshot,
  validateStore,
} from './option-values.js';

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

/** Every option a trip policy uses, in {@link BREAKER_OPTION_NAMES} order. */
const POLICY_OPTIONS = BREAKER_OPTION_NAMES.filter((key) => POLICY_OPTION_USERS.has(key));

function checkPolicyName(check: OptionChecker, value: unknown): TripPolicyName {
  if (typeof value !== 'string' || !POLICY_NAMES.includes(value as TripPolicyName)) {
    check.fail('policy', `one of ${POLICY_NAMES.map((p) => `"${p}"`).join(', ')}`, value);
  }
  return value as TripPolicyName;
}

function resolvePolicy(check: OptionChecker, options: Record<string, unknown>): PolicyConfig {
  const policy = checkPolicyName(check, options.policy ?? DEFAULTS.policy);
  for (const option of POLICY_OPTIONS) {
    const users = POLICY_OPTION_USERS.get(option)!;
    if (options[option] !== undefined && !users.includes(policy)) {
      const hint =
        options.policy === undefined
          ? `set policy: "${users[0]}" to use it`
          : `it applies to policy ${users.map((u) => `"${u}"`).join(' or ')}`;
      check.fail(option, `unset while policy is "${policy}" (${hint})`, options[option]);
    }
  }
  return POLICIES[policy].resolve(check);
}

/**
 * How each option's value is checked on its own, whatever the other options say: the same checks
 * `resolveBreakerOptions` makes, minus the rules that relate two options (a window option under
 * another policy, `minimumCalls` above `windowSize`, `maxQueue` without `maxConcurrent`, a missing
 * `slowCallDuration`), which only the merged options can answer.
 */
type ValueCheck = (check: OptionChecker, layer: Record<string, unknown>) => unknown;

/** Each policy option's own check, from the descriptors (an option shared by policies reads alike). */
const POLICY_VALUE_CHECKS: Record<string, ValueCheck> = Object.fromEntries(
  POLICY_LIST.flatMap((d) =>
    Object.entries<OptionRead>(d.options).map(([option, read]) => [
      option,
      (c: OptionChecker) => read(c, 0),
    ]),
  ),
);

const VALUE_CHECKS: Readonly<Record<keyof BreakerOptions, ValueCheck>> = {
  name: (c, l) =>
    (typeof l.name !== 'string' || l.name.trim() === '') &&
    c.fail('name', 'a non-empty string', l.name),
  policy: (c, l) => checkPolicyName(c, l.policy),
  ...(POLICY_VALUE_CHECKS as Record<PolicyOptionKey, ValueCheck>),
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
  const check: OptionChecker = new OptionChecker(label, source);
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
  const check = new OptionChecker(name ?? '<unnamed>', options);
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
