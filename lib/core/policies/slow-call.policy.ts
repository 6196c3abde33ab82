import type { TripReason } from '../circuit-state.js';
import {
  COUNT_WINDOW_DEFAULTS,
  CountRing,
  FAILED,
  readWindowSize,
  resolveCountWindow,
  SLOW,
} from './count-ring.js';
import type { OptionRead, PolicyDescriptor } from './policy-descriptor.js';
import { rateReached, readFailureRateThreshold, readMinimumCalls } from './rate-rule.js';
import type { PolicyView, TripPolicy } from './trip-policy.js';

/**
 * Over the last `size` calls, opens the circuit when the share of slow calls (taking at least
 * `slowCallDuration` ms, successful or not) reaches `slowRateThreshold`, or the failure rate reaches
 * `failureRateThreshold`, once the window holds `minimumCalls` calls. A dependency that answers
 * correctly but ever more slowly is caught before its slowness becomes timeouts. O(1) per call.
 */
export class SlowCallPolicy extends CountRing implements TripPolicy {
  readonly needsTime = false;

  constructor(
    size: number,
    private readonly minimumCalls: number,
    private readonly failureRateThreshold: number,
    private readonly slowCallDuration: number,
    private readonly slowRateThreshold: number,
  ) {
    super(size);
  }

  success(_now: number, duration: number): TripReason | undefined {
    return this.record(duration >= this.slowCallDuration ? SLOW : 0);
  }

  failure(_now: number, duration: number): TripReason | undefined {
    return this.record(duration >= this.slowCallDuration ? FAILED | SLOW : FAILED);
  }

  view(): PolicyView {
    return { calls: this.count, failures: this.failures, slowCalls: this.slow };
  }

  /** Records an outcome, then evaluates both rates (after every call, success or failure). */
  private record(bits: number): TripReason | undefined {
    this.push(bits);
    if (rateReached(this.failures, this.count, this.minimumCalls, this.failureRateThreshold)) {
      return 'failure-rate';
    }
    return rateReached(this.slow, this.count, this.minimumCalls, this.slowRateThreshold)
      ? 'slow-call-rate'
      : undefined;
  }
}

/** The `slow-call` policy with every parameter resolved. */
export interface SlowCallConfig {
  readonly kind: 'slow-call';
  readonly windowSize: number;
  readonly minimumCalls: number;
  readonly failureRateThreshold: number;
  readonly slowCallDuration: number;
  readonly slowCallRateThreshold: number;
}

const readSlowCallDuration: OptionRead = (check, fallback) =>
  check.duration('slowCallDuration', fallback);
const readSlowCallRateThreshold: OptionRead = (check, fallback) =>
  check.fraction('slowCallRateThreshold', fallback);

const defaults = { ...COUNT_WINDOW_DEFAULTS, slowCallRateThreshold: 0.5 } as const;

/** The `slow-call` policy: the slow-call rate (or the failure rate) over the last `windowSize` calls. */
export const slowCall = {
  kind: 'slow-call',
  options: {
    windowSize: readWindowSize,
    minimumCalls: readMinimumCalls,
    failureRateThreshold: readFailureRateThreshold,
    slowCallDuration: readSlowCallDuration,
    slowCallRateThreshold: readSlowCallRateThreshold,
  },
  defaults,
  resolve: (check) => {
    const window = resolveCountWindow(check);
    if (check.value('slowCallDuration') === undefined) {
      check.fail(
        'slowCallDuration',
        'a finite number of milliseconds > 0 (required by policy "slow-call")',
        undefined,
      );
    }
    // Every property written in the literal (no spread): see count-window.policy.ts.
    return {
      kind: 'slow-call',
      windowSize: window.windowSize,
      minimumCalls: window.minimumCalls,
      failureRateThreshold: window.failureRateThreshold,
      slowCallDuration: readSlowCallDuration(check, 0),
      slowCallRateThreshold: readSlowCallRateThreshold(check, defaults.slowCallRateThreshold),
    };
  },
  create: (config) =>
    new SlowCallPolicy(
      config.windowSize,
      config.minimumCalls,
      config.failureRateThreshold,
      config.slowCallDuration,
      config.slowCallRateThreshold,
    ),
  slowCallDuration: (config) => config.slowCallDuration,
  script: {
    params: {
      windowSize: 'n',
      minimumCalls: 'm',
      failureRateThreshold: 'r',
      slowCallDuration: 'sd',
      slowCallRateThreshold: 'sr',
    },
    lua: `
ring_push(st, failed, slow)
if rate_reached(st.wf, st.wn, cfg.r) then return 'failure-rate' end
if rate_reached(st.ws, st.wn, cfg.sr) then return 'slow-call-rate' end
return nil`,
    collapsesSuccesses: false,
  },
} satisfies PolicyDescriptor<SlowCallConfig>;
