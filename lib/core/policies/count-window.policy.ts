import type { TripReason } from '../circuit-state.js';
import {
  COUNT_WINDOW_DEFAULTS,
  CountRing,
  FAILED,
  readWindowSize,
  resolveCountWindow,
} from './count-ring.js';
import type { PolicyDescriptor } from './policy-descriptor.js';
import { rateReached, readFailureRateThreshold, readMinimumCalls } from './rate-rule.js';
import type { PolicyView, TripPolicy } from './trip-policy.js';

/**
 * Opens the circuit when the failure rate over the last `size` calls reaches `threshold`, once the
 * window holds at least `minimumCalls` calls. O(1) per call, however full the window.
 */
export class CountWindowPolicy extends CountRing implements TripPolicy {
  readonly needsTime = false;

  constructor(
    size: number,
    private readonly minimumCalls: number,
    private readonly threshold: number,
  ) {
    super(size);
  }

  // The rate after every call, success or failure. Each outcome pushes and evaluates in its own
  // body (no shared helper): one call level less on the hot path, which V8 inlines whole.
  success(): TripReason | undefined {
    this.push(0);
    return rateReached(this.failures, this.count, this.minimumCalls, this.threshold)
      ? 'failure-rate'
      : undefined;
  }

  failure(): TripReason | undefined {
    this.push(FAILED);
    return rateReached(this.failures, this.count, this.minimumCalls, this.threshold)
      ? 'failure-rate'
      : undefined;
  }

  view(): PolicyView {
    return { calls: this.count, failures: this.failures, slowCalls: 0 };
  }
}

/** The `count-window` policy with every parameter resolved. */
export interface CountWindowConfig {
  readonly kind: 'count-window';
  readonly windowSize: number;
  readonly minimumCalls: number;
  readonly failureRateThreshold: number;
}

/** The `count-window` policy: the failure rate over the last `windowSize` calls. */
export const countWindow = {
  kind: 'count-window',
  options: {
    windowSize: readWindowSize,
    minimumCalls: readMinimumCalls,
    failureRateThreshold: readFailureRateThreshold,
  },
  defaults: COUNT_WINDOW_DEFAULTS,
  resolve: (check) => {
    // Every property written in the literal (no spread), so that all of them live in the object:
    // a spread's properties go to a separate array (bench case 5: heap per idle breaker).
    const { windowSize, minimumCalls, failureRateThreshold } = resolveCountWindow(check);
    return { kind: 'count-window', windowSize, minimumCalls, failureRateThreshold };
  },
  create: (config) =>
    new CountWindowPolicy(config.windowSize, config.minimumCalls, config.failureRateThreshold),
  script: {
    params: { windowSize: 'n', minimumCalls: 'm', failureRateThreshold: 'r' },
    // The rate after every call, a success too, as the breaker's own window evaluates it.
    lua: `
ring_push(st, failed, slow)
if rate_reached(st.wf, st.wn, cfg.r) then return 'failure-rate' end
return nil`,
    collapsesSuccesses: false,
  },
} satisfies PolicyDescriptor<CountWindowConfig>;
