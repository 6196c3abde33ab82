import type { PolicyConfig } from '../validate-options.js';
import { ConsecutiveFailuresPolicy } from './consecutive-failures.policy.js';
import { CountWindowPolicy } from './count-window.policy.js';
import { SlowCallPolicy } from './slow-call.policy.js';
import { TimeWindowPolicy } from './time-window.policy.js';
import type { TripPolicy } from './trip-policy.js';

/** Builds the trip policy a resolved configuration names. */
export function createPolicy(config: PolicyConfig): TripPolicy {
  switch (config.kind) {
    case 'consecutive':
      return new ConsecutiveFailuresPolicy(config.failureThreshold);
    case 'count-window':
      return new CountWindowPolicy(
        config.windowSize,
        config.minimumCalls,
        config.failureRateThreshold,
      );
    case 'time-window':
      return new TimeWindowPolicy(
        config.windowDuration,
        config.windowBuckets,
        config.minimumCalls,
        config.failureRateThreshold,
      );
    case 'slow-call':
      return new SlowCallPolicy(
        config.windowSize,
        config.minimumCalls,
        config.failureRateThreshold,
        config.slowCallDuration,
        config.slowCallRateThreshold,
      );
  }
}
