import type { TripReason } from '../circuit-state.js';

/** What a trip policy currently sees, for statistics and health reports. */
export interface PolicyView {
  /** Calls the policy is considering: those in its window, or since the circuit closed (`consecutive`). */
  readonly calls: number;
  /** Failures (and timeouts) among them. */
  readonly failures: number;
  /** Slow calls among them (`slow-call` policy only; otherwise 0). */
  readonly slowCalls: number;
}

/**
 * Decides, outcome by outcome, whether a closed circuit should open. A policy only answers
 * "should it open now?": the circuit owns every transition, and resets the policy when it closes.
 * Every method is O(1).
 */
export interface TripPolicy {
  /** Whether `success`/`failure`/`view` need a real `now` (otherwise 0 is passed). */
  readonly needsTime: boolean;
  /**
   * Records a success; returns why the circuit should open, if it should (a slow success can).
   * `duration` is the call's, in ms, when its descriptor has a `slowCallDuration` (the breaker times
   * calls then); otherwise `NaN` may be passed.
   */
  success(now: number, duration: number): TripReason | undefined;
  /** Records a failure; returns why the circuit should open, if it should. */
  failure(now: number, duration: number): TripReason | undefined;
  /** Forgets every recorded outcome. */
  reset(): void;
  /** What the policy currently sees. */
  view(now: number): PolicyView;
}
