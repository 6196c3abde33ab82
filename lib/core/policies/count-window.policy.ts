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
    this.record(0);
    return undefined;
  }

  failure(): TripReason | undefined {
    this.record(1);
    return this.count >= this.minimumCalls && this.failures / this.count >= this.threshold
      ? 'failure-rate'
      : undefined;
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

  private record(failed: 0 | 1): void {
    const ring = (this.ring ??= new Uint8Array(this.size));
    if (this.count < this.size) this.count++;
    else this.failures -= ring[this.next]!;
    ring[this.next] = failed;
    this.failures += failed;
    if (++this.next === this.size) this.next = 0;
  }
}
