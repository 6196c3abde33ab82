import type { Clock } from './clock.js';
import type { CircuitConfig } from './circuit-config.js';
import type { CallbackSource } from './options.js';
import { POLICY_DEFAULTS } from './policies/index.js';
import type { TripPolicyName } from './policies/policy-name.js';
import type { CircuitSnapshot } from './snapshot.js';
import type { CircuitStore } from './store/circuit-store.js';

/** Every breaker option, validated, with defaults applied. */
export interface ResolvedBreakerOptions {
  readonly name: string;
  readonly circuit: CircuitConfig;
  readonly halfOpenWaitTimeout: number;
  /** 0 when there is no timeout. */
  readonly timeout: number;
  readonly isFailure: ((error: unknown) => boolean) | undefined;
  readonly ignore: ((error: unknown) => boolean) | undefined;
  readonly hasFallback: boolean;
  readonly fallback: unknown;
  readonly fallbackOnFailure: boolean;
  /** 0 when there is no bulkhead. */
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  readonly clock: Clock;
  readonly random: () => number;
  readonly initialState: CircuitSnapshot | undefined;
  readonly store: CircuitStore | undefined;
  readonly onCallbackError: (error: unknown, source: CallbackSource, breaker: string) => void;
  readonly rejectionStackTraces: boolean;
}

/** Defaults of every option that has one (the trip policies' come from their descriptors). */
export const DEFAULTS = {
  policy: 'consecutive' as TripPolicyName,
  ...POLICY_DEFAULTS,
  openDuration: 30_000,
  halfOpenMaxCalls: 1,
  halfOpenWaitTimeout: 0,
  probeExpiry: 60_000,
  maxQueue: 0,
  backoffMultiplier: 2,
  backoffMaxDuration: 300_000,
  backoffJitter: 0.2,
} as const;
