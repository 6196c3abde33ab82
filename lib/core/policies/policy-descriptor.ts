import type { OptionChecker } from '../option-checker.js';
import type { TripPolicyName } from './policy-name.js';
import type { TripPolicy } from './trip-policy.js';

/**
 * Reads one policy option through `check`: its value if set (checked on its own), else `fallback`.
 * The validator also calls it on a layer of options checked before merging (module `defaults`).
 */
export type OptionRead = (check: OptionChecker, fallback: number) => number;

/**
 * The numeric fields of the Redis store's script configuration that carry a policy's parameters
 * (`ScriptConfig` in `lib/redis/scripts.ts`). Every configuration sends all of them, in
 * {@link SCRIPT_PARAMS} order, 0 when unused, so that equal configurations give equal JSON.
 */
export type ScriptParam = 't' | 'n' | 'm' | 'r' | 'wd' | 'wb' | 'sd' | 'sr';

/** Every {@link ScriptParam}, in the order the script configuration's JSON holds them. */
export const SCRIPT_PARAMS: readonly ScriptParam[] = ['t', 'n', 'm', 'r', 'wd', 'wb', 'sd', 'sr'];

/** The options a resolved policy configuration carries (all of its keys but `kind`). */
export type PolicyOptionName<C> = Exclude<keyof C, 'kind'> & string;

/** How the Redis store runs a policy in its Lua scripts. */
export interface PolicyScript<C> {
  /** The script field that carries each option. */
  readonly params: { readonly [O in PolicyOptionName<C>]: ScriptParam };
  /**
   * The body of the policy's branch of `record_policy(st, failed, slow)`, which records one
   * outcome of a call admitted while CLOSED and returns why the circuit should open, or `nil`.
   * Every path ends in a `return`. It may use the primitives the window files define
   * (`ring_push`, `buckets_push`, `rate_reached`), the stored state `st` (`c` consecutive failures,
   * `wn`/`wf`/`ws` calls, failures and slow calls in the window, `wi` ring index, `wh` newest
   * bucket), `cfg` (the script configuration), `now` (Redis's clock, ms), and the keys `R` (ring),
   * `B` (buckets) and `S` (instances that contributed failures, for the quorum).
   */
  readonly lua: string;
  /**
   * Whether a success only resets the policy's count, so that a run of successes can be sent to
   * Redis as one (as under `consecutive`).
   */
  readonly collapsesSuccesses: boolean;
}

/**
 * Everything the package knows about one trip policy, in the policy's own file: its name, its
 * options (how each is read, their defaults), how its options are validated and resolved, how the
 * policy is created, and how the Redis store runs it. `policies/index.ts` lists the descriptors;
 * validation, option merging, the breaker's timing and the Redis store derive from that list.
 *
 * @typeParam C - the policy's resolved configuration: `kind` and one field per option.
 */
export interface PolicyDescriptor<C extends { readonly kind: TripPolicyName }> {
  readonly kind: C['kind'];
  /**
   * Each option the policy uses, with how a value of it is read on its own, in the order of
   * `BREAKER_OPTION_NAMES` (the order its options are reported in).
   */
  readonly options: { readonly [O in PolicyOptionName<C>]: OptionRead };
  /** The default of each option that has one. */
  readonly defaults: { readonly [O in PolicyOptionName<C>]?: number };
  /**
   * Validates the policy's options and applies their defaults, throwing a `BreakerOptionsError`
   * for the first problem (options of other policies have already been rejected).
   */
  resolve(check: OptionChecker): C;
  /** Creates the policy for one circuit. */
  create(config: C): TripPolicy;
  /**
   * The duration from which a call counts as slow, in ms, for a policy that counts slow calls:
   * the breaker then times every call, and passes its duration to the policy.
   */
  slowCallDuration?(config: C): number;
  /** How the Redis store runs the policy. */
  readonly script: PolicyScript<C>;
}
