import { type BreakerFamily, CircuitState } from '../core/internal.js';
import type { CircuitBreakerFamilySummary } from './ops-payloads.interface.js';

/** Keys listed by name in a family's summary, at most. */
export const MAX_LISTED_KEYS = 20;

/** A family as the list and `GET /{path}/circuitbreakers/:family` answer it. */
export function familySummary(family: BreakerFamily): CircuitBreakerFamilySummary {
  const stats = family.stats();
  const notClosed: Array<{ key: string; state: CircuitState }> = [];
  if (stats.keys !== stats.states.CLOSED) {
    for (const key of family.keys()) {
      const state = family.peek(key)?.state;
      if (state === undefined || state === CircuitState.Closed) continue;
      notClosed.push({ key, state });
      if (notClosed.length === MAX_LISTED_KEYS) break;
    }
  }
  return {
    keys: stats.keys,
    maxKeys: stats.maxKeys,
    idleTimeout: stats.idleTimeout === Infinity ? null : stats.idleTimeout,
    states: stats.states,
    notClosedKeys: stats.keys - stats.states.CLOSED,
    notClosed,
    created: stats.created,
    evicted: stats.evicted,
    overCap: stats.overCap,
  };
}
