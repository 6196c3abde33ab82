import type { TripReason } from '../circuit-state.js';
import type { PolicyView, TripPolicy } from './trip-policy.js';

const FAILED = 1;
const SLOW = 2;

/**
 * Over the last `size` calls, opens the circuit when the share of slow calls (taking at least
 * `slowCallDuration` ms, successful or not) reaches `slowRateThreshold`, or the failure rate reaches
 * `failureRateThreshold`, once the window holds `minimumCalls` calls. A dependency that answers
 * correctly but ever more slowly is caught before its slowness becomes timeouts. O(1) per call.
 */
export class SlowCallPolicy implements TripPolicy {
  readonly needsTime = false;
  readonly needsDuration = true;
  /** One byte per call: bit 0 failed, bit 1 slow. Allocated on the first outcome. */
  private ring: Uint8Array | undefined = undefined;
  private next = 0;
  private count = 0;
  private failures = 0;
  private slow = 0;

  constructor(
    private readonly size: number,
    private readonly minimumCalls: number,
    private readonly failureRateThreshold: number,
    private readonly slowCallDuration: number,
    private readonly slowRateThreshold: number,
  ) {}

  success(_now: number, duration: number): TripReason | undefined {
    return this.record(duration >= this.slowCallDuration ? SLOW : 0);
  }

  failure(_now: number, duration: number): TripReason | undefined {
    return this.record(duration >= this.slowCallDuration ? FAILED | SLOW : FAILED);
  }

  reset(): void {
    this.ring?.fill(0);
    this.next = 0;
    this.count = 0;
    this.failures = 0;
    this.slow = 0;
  }

  view(): PolicyView {
    return { calls: this.count, failures: this.failures, slowCalls: this.slow };
  }

  private record(bits: number): TripReason | undefined {
    const ring = (this.ring ??= new Uint8Array(this.size));
    if (this.count < this.size) {
      this.count++;
    } else {
      const old = ring[this.next]!;
      this.failures -= old & FAILED;
      this.slow -= (old & SLOW) >> 1;
    }
    ring[this.next] = bits;
    this.failures += bits & FAILED;
    this.slow += (bits & SLOW) >> 1;
    if (++this.next === this.size) this.next = 0;
    if (this.count < this.minimumCalls) return undefined;
    if (this.failures > 0 && this.failures / this.count >= this.failureRateThreshold) {
      return 'failure-rate';
    }
    if (this.slow > 0 && this.slow / this.count >= this.slowRateThreshold) return 'slow-call-rate';
    return undefined;
  }
}
