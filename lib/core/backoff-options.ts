/** Exponential backoff of the open period after each failed probe. */
export interface BackoffOptions {
  /** Factor applied to the open period after each failed probe. Must be >= 1. @default 2 */
  multiplier?: number;
  /** Upper bound of the open period, in milliseconds. Must be >= `openDuration`. @default 300_000 (5 min) */
  maxDuration?: number;
  /**
   * Random spread of each open period, as a fraction of it: 0.2 draws from ±20%. Instances that
   * opened together then probe at different times. Must be in [0, 1]. @default 0.2
   */
  jitter?: number;
}

/**
 * A custom open period: receives the number of failed probes since the circuit was last closed
 * (0 for the first opening) and `openDuration`, returns milliseconds (finite, > 0).
 */
export type BackoffFunction = (attempt: number, openDuration: number) => number;

/** Exponential backoff with every parameter resolved. */
export interface ResolvedBackoff {
  readonly multiplier: number;
  readonly maxDuration: number;
  readonly jitter: number;
}
