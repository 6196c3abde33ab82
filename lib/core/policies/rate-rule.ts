import type { OptionRead } from './policy-descriptor.js';

/**
 * The rule every rate policy trips by, written once (as Polly v8's `HealthMetrics` does): once the
 * window holds at least `minimumCalls` calls, the circuit opens when `part` (failures, or slow
 * calls) reaches `threshold` of them. Policies evaluate it after every recorded call, success or
 * failure: a success can find the rate above the threshold (older successes left the window, or
 * it completed `minimumCalls`).
 *
 * Rates are compared as `part / calls >= threshold`, never `part >= threshold * calls`: the
 * quotient of two integers is correctly rounded, so 7 failures in 25 calls meets a 0.28 threshold,
 * while `0.28 * 25` is 7.000000000000001 and would not.
 */
export function rateReached(
  part: number,
  calls: number,
  minimumCalls: number,
  threshold: number,
): boolean {
  return calls >= minimumCalls && part > 0 && part / calls >= threshold;
}

/** The rule in the Redis scripts' Lua (`cfg.m` is `minimumCalls`). */
export const RATE_RULE_LUA = `
local function rate_reached(part, calls, threshold)
  return calls >= cfg.m and part > 0 and part / calls >= threshold
end`;

/** Defaults of the options every rate policy shares. */
export const RATE_DEFAULTS = { minimumCalls: 10, failureRateThreshold: 0.5 } as const;

/** `minimumCalls`: calls the window must hold before a rate can open the circuit. */
export const readMinimumCalls: OptionRead = (check, fallback) =>
  check.integer('minimumCalls', 1, fallback);

/** `failureRateThreshold`: the failure rate that opens the circuit, a fraction in (0, 1]. */
export const readFailureRateThreshold: OptionRead = (check, fallback) =>
  check.fraction('failureRateThreshold', fallback);
