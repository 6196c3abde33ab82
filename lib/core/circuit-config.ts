import type { BackoffFunction, ResolvedBackoff } from './backoff-options.js';
import type { PolicyConfig } from './policies/index.js';

export type { PolicyConfig } from './policies/index.js';

/** What a circuit (in any store) needs to know to make its decisions. */
export interface CircuitConfig {
  readonly policy: PolicyConfig;
  readonly openDuration: number;
  readonly backoff: ResolvedBackoff | BackoffFunction | undefined;
  readonly halfOpenMaxCalls: number;
  readonly probeExpiry: number;
}
