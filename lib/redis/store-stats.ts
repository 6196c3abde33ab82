import type { InFlightLimit } from './in-flight-limit.js';
import type { RedisStoreStats, RedisStoreStatus } from './redis-store-options.interface.js';
import type { OutcomeCounts } from './script-runner.interface.js';

/** @internal A store's `stats()`: a snapshot of its counters, which add up (see {@link RedisStoreStats}). */
export function storeStats(
  status: RedisStoreStatus,
  limit: InFlightLimit,
  o: OutcomeCounts,
  mismatched: RedisStoreStats['mismatched'],
): RedisStoreStats {
  return {
    status,
    maxInFlight: limit.max,
    inFlight: limit.inFlight,
    peakInFlight: limit.peak,
    waiting: limit.waiting,
    outcomes: {
      queued: o.queued,
      recorded: o.recorded,
      pending: o.pending,
      dropped: {
        unavailable: o.unavailable,
        mismatch: o.mismatch,
        overflow: o.overflow,
        stale: o.stale,
      },
    },
    mismatched,
  };
}
