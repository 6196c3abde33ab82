import type { BackoffFunction, ResolvedBackoff } from './backoff-options.js';

/**
 * The length of an open period, in milliseconds.
 *
 * @param attempt failed probes since the circuit last closed (0 for the first opening)
 * @param random a source of [0, 1) for jitter
 */
export function openPeriod(
  openDuration: number,
  backoff: ResolvedBackoff | BackoffFunction | undefined,
  attempt: number,
  random: () => number,
): number {
  if (backoff === undefined) return openDuration;
  if (typeof backoff === 'function') {
    // A custom function is the user's code, called in the middle of a transition: a throw or a bad
    // answer must not leave the circuit half-changed, so both fall back to the base duration.
    let custom: unknown;
    try {
      custom = backoff(attempt, openDuration);
    } catch {
      return openDuration;
    }
    return typeof custom === 'number' && Number.isFinite(custom) && custom > 0
      ? custom
      : openDuration;
  }
  // Capping the exponent keeps multiplier ** attempt finite however long the outage.
  const grown = openDuration * backoff.multiplier ** Math.min(attempt, 64);
  const spread = backoff.jitter === 0 ? 1 : 1 + backoff.jitter * (2 * random() - 1);
  const period = Math.min(backoff.maxDuration, Math.min(grown, backoff.maxDuration) * spread);
  // A random source returning garbage (NaN, out of range) must not make the period NaN.
  return Number.isFinite(period) ? Math.max(1, period) : openDuration;
}
