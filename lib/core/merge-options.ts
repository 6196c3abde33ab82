import type { BreakerOptions } from './options.js';
import { optionsSpecificToOtherPolicies } from './policies/index.js';
import { DEFAULTS } from './resolved-options.js';

/**
 * Layers breaker options, later layers winning key by key (a key set to `undefined` does not
 * override). When a later layer switches `policy`, options that only apply to the other policies
 * are dropped from the earlier layers, so `defaults: { failureThreshold: 3 }` does not clash with a
 * breaker that chooses `policy: 'count-window'`. Nothing is validated here: validation happens when
 * the breaker is built, on the merged result.
 */
export function mergeBreakerOptions(
  ...layers: ReadonlyArray<Partial<BreakerOptions> | undefined>
): Partial<BreakerOptions> {
  let merged: Record<string, unknown> = {};
  for (const layer of layers) {
    if (layer === undefined) continue;
    const next = layer as Record<string, unknown>;
    const policy = next.policy;
    if (typeof policy === 'string' && policy !== (merged.policy ?? DEFAULTS.policy)) {
      const drop = new Set(
        optionsSpecificToOtherPolicies(policy as BreakerOptions['policy'] & string),
      );
      merged = Object.fromEntries(Object.entries(merged).filter(([key]) => !drop.has(key)));
    }
    for (const [key, value] of Object.entries(next)) {
      if (value !== undefined) merged[key] = value;
    }
  }
  return merged as Partial<BreakerOptions>;
}
