import type { TripReason } from '../circuit-state.js';
import type { OptionRead, PolicyDescriptor } from './policy-descriptor.js';
import type { PolicyView, TripPolicy } from './trip-policy.js';

/** Opens the circuit after `threshold` failures in a row; any success starts the count again. */
export class ConsecutiveFailuresPolicy implements TripPolicy {
  readonly needsTime = false;
  private consecutive = 0;
  private calls = 0;
  private failures = 0;

  constructor(private readonly threshold: number) {}

  success(): TripReason | undefined {
    this.consecutive = 0;
    this.calls++;
    return undefined;
  }

  failure(): TripReason | undefined {
    this.calls++;
    this.failures++;
    return ++this.consecutive >= this.threshold ? 'consecutive-failures' : undefined;
  }

  reset(): void {
    this.consecutive = 0;
    this.calls = 0;
    this.failures = 0;
  }

  view(): PolicyView {
    return { calls: this.calls, failures: this.failures, slowCalls: 0 };
  }
}

/** The `consecutive` policy with every parameter resolved. */
export interface ConsecutiveFailuresConfig {
  readonly kind: 'consecutive';
  readonly failureThreshold: number;
}

const readFailureThreshold: OptionRead = (check, fallback) =>
  check.integer('failureThreshold', 1, fallback);

const defaults = { failureThreshold: 5 } as const;

/** The `consecutive` policy: `failureThreshold` failures in a row open the circuit. */
export const consecutiveFailures = {
  kind: 'consecutive',
  options: { failureThreshold: readFailureThreshold },
  defaults,
  resolve: (check) => ({
    kind: 'consecutive',
    failureThreshold: readFailureThreshold(check, defaults.failureThreshold),
  }),
  create: (config) => new ConsecutiveFailuresPolicy(config.failureThreshold),
  script: {
    params: { failureThreshold: 't' },
    // A success resets the count and the instances that contributed to it.
    lua: `
if not failed then
  st.c = 0
  redis.call('DEL', S)
  return nil
end
st.c = st.c + 1
if st.c >= cfg.t then return 'consecutive-failures' end
return nil`,
    collapsesSuccesses: true,
  },
} satisfies PolicyDescriptor<ConsecutiveFailuresConfig>;
