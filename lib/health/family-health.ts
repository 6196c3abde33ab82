import { CircuitState } from '../core/internal.js';
import type { BreakerFamily } from '../core/internal.js';

/** Keys listed by name under a family's `open`, at most: a family may hold thousands. */
export const MAX_LISTED_KEYS = 10;

/**
 * What the indicator reports for one family of breakers: one entry, whatever its size.
 * @publicApi
 */
export interface CircuitBreakerFamilyHealthDetails {
  /** Keys held now. */
  readonly keys: number;
  /** Keys held now, by circuit state. */
  readonly states: Readonly<Record<CircuitState, number>>;
  /** Keys whose circuit is `OPEN` or `FORCED_OPEN` (counted in full). */
  readonly openKeys: number;
  /** The first open keys, least recently used first, at most 10; `openKeys` has the count. */
  readonly open?: readonly string[];
}

/** A family's health entry, read without creating a key or counting a use. @internal */
export function familyDetails(family: BreakerFamily): CircuitBreakerFamilyHealthDetails {
  const states: Record<CircuitState, number> = {
    CLOSED: 0,
    OPEN: 0,
    HALF_OPEN: 0,
    FORCED_OPEN: 0,
    DISABLED: 0,
  };
  const open: string[] = [];
  for (const key of family.keys()) {
    const state = family.peek(key)?.state;
    if (state === undefined) continue;
    states[state]++;
    if (
      (state === CircuitState.Open || state === CircuitState.ForcedOpen) &&
      open.length < MAX_LISTED_KEYS
    ) {
      open.push(key);
    }
  }
  const openKeys = states.OPEN + states.FORCED_OPEN;
  return { keys: family.size, states, openKeys, ...(open.length > 0 ? { open } : {}) };
}
