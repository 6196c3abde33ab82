/**
 * The breakers under comparison, built the same way in every case: ours with three trip policies,
 * cockatiel 4 with its two breakers, opossum 9 with its defaults and with its timers and
 * percentiles switched off.
 */
import {
  CircuitState as CockatielState,
  ConsecutiveBreaker,
  type CircuitBreakerPolicy,
  SamplingBreaker,
  circuitBreaker,
  handleAll,
} from 'cockatiel';
import CircuitBreaker from 'opossum';
import { Breaker, type BreakerOptions } from '../lib/core/index.js';

/** The function every success case protects, and the raw call the ratios divide by. */
export const ok = async (): Promise<number> => 1;

/** One error, thrown by every failing call: the cost measured is the breaker's, not a stack trace's. */
export const failure = new Error('dependency failed');
export const failing = async (): Promise<never> => {
  throw failure;
};

/** An hour: no circuit opened in a benchmark half-opens while it runs. */
export const HOUR = 3_600_000;

export type OurPolicy = 'consecutive' | 'count-window' | 'time-window';
export const OUR_POLICIES: readonly OurPolicy[] = ['consecutive', 'count-window', 'time-window'];

/** Ours, with each policy's defaults (5 in a row; 50% of the last 100 calls; 50% of 60 s). */
export function ours(policy: OurPolicy, extra: Partial<BreakerOptions> = {}): Breaker {
  return new Breaker({ name: `bench-${policy}`, policy, ...extra });
}

/** Options that keep ours closed however many calls fail in a round. */
export function oursNeverOpens(policy: OurPolicy): Partial<BreakerOptions> {
  switch (policy) {
    case 'consecutive':
      return { failureThreshold: Number.MAX_SAFE_INTEGER };
    case 'count-window':
      // A window larger than any round, that must be full before a rate counts.
      return { windowSize: 1_000_000, minimumCalls: 1_000_000 };
    case 'time-window':
      return { minimumCalls: Number.MAX_SAFE_INTEGER };
  }
}

export type CockatielKind = 'ConsecutiveBreaker(5)' | 'SamplingBreaker';
export const COCKATIEL_KINDS: readonly CockatielKind[] = [
  'ConsecutiveBreaker(5)',
  'SamplingBreaker',
];

/**
 * cockatiel 4 (`ConsecutiveBreaker(5)`, or `SamplingBreaker` at 50% over 10 s). `neverOpens` raises
 * the thresholds out of reach for the failing-call cases.
 */
export function cockatiel(
  kind: CockatielKind,
  options: { neverOpens?: boolean; threshold?: number } = {},
): CircuitBreakerPolicy {
  const breaker =
    kind === 'ConsecutiveBreaker(5)'
      ? new ConsecutiveBreaker(options.neverOpens ? Number.MAX_SAFE_INTEGER : 5)
      : new SamplingBreaker({
          threshold: options.threshold ?? 0.5,
          duration: 10_000,
          minimumRps: options.neverOpens ? 1e12 : 1,
        });
  return circuitBreaker(handleAll, { halfOpenAfter: HOUR, breaker });
}

export function cockatielIsOpen(policy: CircuitBreakerPolicy): boolean {
  return policy.state === CockatielState.Open;
}

export type OpossumKind = 'defaults' | 'lean';
export const OPOSSUM_KINDS: readonly OpossumKind[] = ['defaults', 'lean'];

/** The "lean" opossum: no per-call timeout timer, no percentiles, no snapshot interval. */
export const OPOSSUM_LEAN = {
  timeout: false,
  rollingPercentilesEnabled: false,
  enableSnapshots: false,
} as const;

/** opossum 9 around `action`, with its defaults or lean. `neverOpens` sets an unreachable volume. */
export function opossum<T>(
  kind: OpossumKind,
  action: () => Promise<T>,
  options: { neverOpens?: boolean } = {},
): CircuitBreaker<[], T> {
  return new CircuitBreaker(action, {
    ...(kind === 'lean' ? OPOSSUM_LEAN : {}),
    resetTimeout: HOUR,
    ...(options.neverOpens ? { volumeThreshold: Number.MAX_SAFE_INTEGER } : {}),
  });
}

/** A config label for the table. */
export function opossumLabel(kind: OpossumKind): string {
  return kind === 'defaults' ? 'defaults' : 'timeout: false, no percentiles, no snapshots';
}
