import type { TripReason } from '../circuit-state.js';
import type { PolicyView, TripPolicy } from './trip-policy.js';

/**
 * Opens the circuit when the failure rate over the last `size` calls reaches `threshold`, once the
 * window holds at least `minimumCalls` calls. A ring of one byte per call with a running failure
 * count: O(1) per call, however full the window.
 */
export class CountWindowPolicy implements TripPolicy {
  readonly needsTime = false;
  readonly needsDuration = false;
  /** Allocated on the first outcome, so an idle breaker costs nothing. */
  private ring: Uint8Array | undefined = undefined;
  private next = 0;
  private count = 0;
  private failures = 0;

  constructor(
    private readonly size: number,
    private readonly minimumCalls: number,
    private readonly threshold: number,
  ) {}

  success(): TripReason | undefined {
    return this.record(0);
  }

  failure(): TripReason | undefined {
    return this.record(1);
  }

  reset(): void {
    this.ring?.fill(0);
    this.next = 0;
    this.count = 0;
    this.failures = 0;
  }

  view(): PolicyView {
    return { calls: this.count, failures: this.failures, slowCalls: 0 };
  }

  /**
   * Records an outcome, then evaluates the rate: after every call, success or failure, once the
   * window holds `minimumCalls` (a success that pushes an older success out of a full window can
   * leave the rate higher than before).
   */
  private record(failed: 0 | 1): TripReason | undefined {
    const ring = (this.ring ??= new Uint8Array(this.size));
    if (this.count < this.size) this.count++;
    else this.failures -= ring[this.next]!;
    ring[this.next] = failed;
    this.failures += failed;
    if (++this.next === this.size) this.next = 0;
    return this.count >= this.minimumCalls &&
      this.failures > 0 &&
      this.failures / this.count >= this.threshold
      ? 'failure-rate'
      : undefined;
  }
}
