import type { TripReason } from '../circuit-state.js';
import type { PolicyView, TripPolicy } from './trip-policy.js';

/** Opens the circuit after `threshold` failures in a row; any success starts the count again. */
export class ConsecutiveFailuresPolicy implements TripPolicy {
  readonly needsTime = false;
  readonly needsDuration = false;
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
