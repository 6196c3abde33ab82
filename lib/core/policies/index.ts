/**
 * Every trip policy, listed once. Validation, option merging, defaults, the breaker's timing and
 * the Redis store's scripts derive from {@link POLICIES}; adding a policy is one file (its
 * class and descriptor), a name in `TripPolicyName`, an entry here, and tests.
 */
import {
  type ConsecutiveFailuresConfig,
  consecutiveFailures,
} from './consecutive-failures.policy.js';
import { COUNT_RING_LUA } from './count-ring.js';
import { type CountWindowConfig, countWindow } from './count-window.policy.js';
import {
  type PolicyDescriptor,
  type PolicyOptionName,
  SCRIPT_PARAMS,
  type ScriptParam,
} from './policy-descriptor.js';
import type { TripPolicyName } from './policy-name.js';
import { RATE_RULE_LUA } from './rate-rule.js';
import { type SlowCallConfig, slowCall } from './slow-call.policy.js';
import { TIME_BUCKETS_LUA } from './time-buckets.js';
import { type TimeWindowConfig, timeWindow } from './time-window.policy.js';
import type { TripPolicy } from './trip-policy.js';

/** A trip policy with every parameter resolved. */
export type PolicyConfig =
  ConsecutiveFailuresConfig | CountWindowConfig | TimeWindowConfig | SlowCallConfig;

/** Every option some trip policy uses. */
export type PolicyOptionKey = OptionsOf<PolicyConfig>;
type OptionsOf<C> = C extends unknown ? PolicyOptionName<C> : never;

/**
 * The descriptor of every policy, by name, in the order they are listed to users. A name of
 * `TripPolicyName` without a descriptor here (or without its configuration in
 * {@link PolicyConfig}) does not compile.
 */
export const POLICIES = {
  consecutive: consecutiveFailures,
  'count-window': countWindow,
  'time-window': timeWindow,
  'slow-call': slowCall,
} as const satisfies {
  readonly [K in TripPolicyName]: PolicyDescriptor<Extract<PolicyConfig, { readonly kind: K }>>;
};

/** A descriptor of any policy, as code that handles every policy alike sees it. */
type AnyDescriptor = PolicyDescriptor<PolicyConfig>;

/** Every descriptor, in {@link POLICIES} order. */
export const POLICY_LIST: readonly AnyDescriptor[] = Object.values(POLICIES) as AnyDescriptor[];

/** Every policy name, in {@link POLICIES} order. */
export const POLICY_NAMES = Object.keys(POLICIES) as readonly TripPolicyName[];

/** The descriptor of the policy `config` configures. */
function descriptorOf(config: PolicyConfig): AnyDescriptor {
  // TypeScript cannot correlate `POLICIES[config.kind]` with `config`; the `satisfies` above does.
  return POLICIES[config.kind] as AnyDescriptor;
}

/** Builds the trip policy a resolved configuration names. */
export function createPolicy(config: PolicyConfig): TripPolicy {
  return descriptorOf(config).create(config);
}

/** The duration from which a call counts as slow under `config`, in ms; `undefined` if none does. */
export function slowCallDurationOf(config: PolicyConfig): number | undefined {
  return descriptorOf(config).slowCallDuration?.(config);
}

/** Whether the Redis store may send a run of successes under `config` as one. */
export function collapsesSuccesses(config: PolicyConfig): boolean {
  return descriptorOf(config).script.collapsesSuccesses;
}

/** Every policy's options merged into one object: an option shared by policies has one default. */
type AllDefaults = UnionToIntersection<(typeof POLICIES)[TripPolicyName]['defaults']>;
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (
  i: infer I,
) => void
  ? I
  : never;

/** The default of every policy option that has one. */
export const POLICY_DEFAULTS = Object.assign(
  {},
  ...POLICY_LIST.map((d) => d.defaults),
) as AllDefaults;

/** For each policy option, the policies that use it, in {@link POLICIES} order. */
export const POLICY_OPTION_USERS: ReadonlyMap<string, readonly TripPolicyName[]> = (() => {
  const users = new Map<string, TripPolicyName[]>();
  for (const d of POLICY_LIST) {
    for (const option of Object.keys(d.options)) {
      users.set(option, [...(users.get(option) ?? []), d.kind]);
    }
  }
  return users;
})();

/** The policy-specific options that `policy` does not use (for merging layers of options). */
export function optionsSpecificToOtherPolicies(policy: TripPolicyName): string[] {
  return [...POLICY_OPTION_USERS].filter(([, users]) => !users.includes(policy)).map(([o]) => o);
}

/**
 * The script fields that carry `config`'s parameters, every one of them in {@link SCRIPT_PARAMS}
 * order (0 when the policy does not use it), so that equal configurations give equal JSON.
 */
export function scriptParams(config: PolicyConfig): Record<ScriptParam, number> {
  const out = Object.fromEntries(SCRIPT_PARAMS.map((p) => [p, 0])) as Record<ScriptParam, number>;
  const values = config as unknown as Readonly<Record<string, number>>;
  for (const [option, param] of scriptedOptions(config.kind)) out[param] = values[option]!;
  return out;
}

/**
 * The options of the policy named `kind` with the script field carrying each, in the policy's
 * option order; none for a name this version does not know (a configuration from another one).
 */
export function scriptedOptions(kind: unknown): ReadonlyArray<readonly [string, ScriptParam]> {
  const d = POLICY_LIST.find((p) => p.kind === kind);
  if (d === undefined) return [];
  const params = d.script.params as Readonly<Record<PolicyOptionName<PolicyConfig>, ScriptParam>>;
  return Object.keys(d.options).map((o) => [o, params[o as PolicyOptionName<PolicyConfig>]]);
}

const luaNames = (pick: (d: AnyDescriptor) => boolean): string =>
  POLICY_LIST.filter(pick)
    .map((d) => `['${d.kind}'] = true`)
    .join(', ');

const indent = (lua: string): string => lua.trim().replace(/^/gm, '    ');

/**
 * The trip policies in the Redis scripts' Lua, to be placed where `cfg`, `now`, the keys and the
 * state are in scope: the window primitives, `policy_counts_slow[kind]` (outcomes carry slowness),
 * `policy_collapses_successes[kind]`, and `record_policy(st, failed, slow)`, which runs the branch
 * of `cfg.k` and raises an error for a policy no descriptor describes.
 */
export const TRIP_POLICY_LUA = [
  RATE_RULE_LUA,
  COUNT_RING_LUA,
  TIME_BUCKETS_LUA,
  `
local policy_counts_slow = { ${luaNames((d) => d.slowCallDuration !== undefined)} }
local policy_collapses_successes = { ${luaNames((d) => d.script.collapsesSuccesses)} }

local function record_policy(st, failed, slow)`,
  ...POLICY_LIST.map((d) => `  if cfg.k == '${d.kind}' then\n${indent(d.script.lua)}\n  end`),
  `  error('no trip policy named ' .. tostring(cfg.k))
end`,
].join('\n');
