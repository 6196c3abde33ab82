import type { TripReason } from '../circuit-state.js';
import type { PolicyView, TripPolicy } from './trip-policy.js';

/**
 * Opens the circuit when the failure rate over the last `windowDuration` ms reaches `threshold`,
 * once the window holds `minimumCalls` calls. The window is `buckets` buckets of equal span that
 * rotate on access (no timer): a bucket's counts leave the totals when its span falls out of the
 * window. O(1) per call; after a long idle spell, at most `buckets` buckets are cleared once.
 */
export class TimeWindowPolicy implements TripPolicy {
  readonly needsTime = true;
  readonly needsDuration = false;
  private readonly span: number;
  /** Per bucket: calls and failures. Bucket `i` holds the span `s` with `s mod buckets = i`. */
  private calls: Uint32Array | undefined = undefined;
  private fails: Uint32Array | undefined = undefined;
  /** The newest span recorded (`floor(now / span)`); -Infinity when empty. */
  private head = -Infinity;
  private totalCalls = 0;
  private totalFailures = 0;

  constructor(
    windowDuration: number,
    private readonly buckets: number,
    private readonly minimumCalls: number,
    private readonly threshold: number,
  ) {
    this.span = windowDuration / buckets;
  }

  success(now: number): TripReason | undefined {
    return this.record(now, 0);
  }

  failure(now: number): TripReason | undefined {
    return this.record(now, 1);
  }

  reset(): void {
    this.calls?.fill(0);
    this.fails?.fill(0);
    this.head = -Infinity;
    this.totalCalls = 0;
    this.totalFailures = 0;
  }

  view(now: number): PolicyView {
    if (this.calls !== undefined) this.rotate(Math.floor(now / this.span));
    return { calls: this.totalCalls, failures: this.totalFailures, slowCalls: 0 };
  }

  /**
   * Records an outcome, then evaluates the rate: after every call, success or failure, once the
   * window holds `minimumCalls` (older successes leave the window as it moves, so a success can
   * find the rate above the threshold).
   */
  private record(now: number, failed: 0 | 1): TripReason | undefined {
    const calls = (this.calls ??= new Uint32Array(this.buckets));
    const fails = (this.fails ??= new Uint32Array(this.buckets));
    const index = this.rotate(Math.floor(now / this.span));
    calls[index]!++;
    fails[index]! += failed;
    this.totalCalls++;
    this.totalFailures += failed;
    return this.totalCalls >= this.minimumCalls &&
      this.totalFailures > 0 &&
      this.totalFailures / this.totalCalls >= this.threshold
      ? 'failure-rate'
      : undefined;
  }

  private bucketOf(span: number): number {
    const i = span % this.buckets;
    return i < 0 ? i + this.buckets : i;
  }

  /**
   * Moves the window so that it ends at `span` and returns the bucket that holds `span`. Each new span
   * reuses the bucket of the span `buckets` before it, which has just left the window, so clearing the
   * buckets of the new spans (at most `buckets` of them) drops exactly what expired. A reading older
   * than the newest span (a clock stepping back) is counted in the newest bucket: nothing is lost.
   */
  private rotate(span: number): number {
    if (!(span > this.head)) return this.bucketOf(this.head);
    const calls = this.calls!;
    const fails = this.fails!;
    const bucket = this.bucketOf(span);
    // `span - head` new spans; the loop counts buckets rather than spans, so it ends however large
    // the readings are (above 2^53, `s + 1 === s`). Spans are integers, so `head + steps` is `span`.
    const steps = span - this.head;
    if (steps >= this.buckets) {
      calls.fill(0);
      fails.fill(0);
      this.totalCalls = 0;
      this.totalFailures = 0;
    } else {
      for (let k = 0, i = this.bucketOf(this.head); k < steps; k++) {
        if (++i === this.buckets) i = 0;
        this.totalCalls -= calls[i]!;
        this.totalFailures -= fails[i]!;
        calls[i] = 0;
        fails[i] = 0;
      }
    }
    this.head = span;
    return bucket;
  }
}
