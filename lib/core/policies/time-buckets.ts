import type { OptionChecker } from '../option-checker.js';
import type { OptionRead } from './policy-descriptor.js';

/** The largest `windowBuckets`: two 4-byte counters per bucket. */
export const MAX_WINDOW_BUCKETS = 100_000;

/**
 * A window over the last `windowDuration` ms, in `buckets` buckets of equal span that rotate on
 * access (no timer): a bucket's counts leave the totals when its span falls out of the window.
 * O(1) per call; after a long idle spell, at most `buckets` buckets are cleared once. The
 * time-based rate policies extend it, so that its fields are theirs (no extra object on the hot
 * path).
 */
export abstract class TimeBuckets {
  /** Calls in the window. */
  protected totalCalls = 0;
  /** Failed calls in the window. */
  protected totalFailures = 0;
  private readonly span: number;
  /** Per bucket: calls and failures. Bucket `i` holds the span `s` with `s mod buckets = i`. */
  private calls: Uint32Array | undefined = undefined;
  private fails: Uint32Array | undefined = undefined;
  /** The newest span recorded (`floor(now / span)`); -Infinity when empty. */
  private head = -Infinity;
  /** The bucket of `head` (kept, so that a call in the newest span costs no modulo). */
  private headBucket = 0;

  constructor(
    windowDuration: number,
    private readonly buckets: number,
  ) {
    this.span = windowDuration / buckets;
  }

  /** Forgets every call. */
  reset(): void {
    this.calls?.fill(0);
    this.fails?.fill(0);
    this.head = -Infinity;
    this.headBucket = 0;
    this.totalCalls = 0;
    this.totalFailures = 0;
  }

  /** Records a call at `now`. */
  protected push(now: number, failed: 0 | 1): void {
    if (this.calls === undefined) {
      this.calls = new Uint32Array(this.buckets);
      this.fails = new Uint32Array(this.buckets);
    }
    const span = Math.floor(now / this.span);
    const index = span > this.head ? this.rotate(span) : this.headBucket;
    this.calls[index]!++;
    this.fails![index]! += failed;
    this.totalCalls++;
    this.totalFailures += failed;
  }

  /** Moves the window to end at `now`, so that the totals count only what it holds. */
  protected slide(now: number): void {
    if (this.calls === undefined) return;
    const span = Math.floor(now / this.span);
    if (span > this.head) this.rotate(span);
  }

  private bucketOf(span: number): number {
    const i = span % this.buckets;
    return i < 0 ? i + this.buckets : i;
  }

  /**
   * Moves the window so that it ends at `span`, newer than `head`, and returns the bucket that holds
   * `span`. Each new span reuses the bucket of the span `buckets` before it, which has just left the
   * window, so clearing the buckets of the new spans (at most `buckets` of them) drops exactly what
   * expired. A reading no newer than the newest span (a clock stepping back) is not rotated: it is
   * counted in the newest bucket, so nothing is lost.
   */
  private rotate(span: number): number {
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
      for (let k = 0, i = this.headBucket; k < steps; k++) {
        if (++i === this.buckets) i = 0;
        this.totalCalls -= calls[i]!;
        this.totalFailures -= fails[i]!;
        calls[i] = 0;
        fails[i] = 0;
      }
    }
    this.head = span;
    this.headBucket = bucket;
    return bucket;
  }
}

/** `windowDuration`: the length of the window, in ms. */
export const readWindowDuration: OptionRead = (check, fallback) =>
  check.duration('windowDuration', fallback);

/** `windowBuckets`: the buckets the window is divided into. */
export const readWindowBuckets: OptionRead = (check, fallback) =>
  check.integer('windowBuckets', 1, fallback, MAX_WINDOW_BUCKETS);

/** Defaults of a time window's options. */
export const TIME_BUCKETS_DEFAULTS = { windowDuration: 60_000, windowBuckets: 10 } as const;

/** Resolves a time window's length and buckets: each bucket spans at least 1 ms. */
export function resolveTimeBuckets(check: OptionChecker): {
  readonly windowDuration: number;
  readonly windowBuckets: number;
} {
  const windowDuration = readWindowDuration(check, TIME_BUCKETS_DEFAULTS.windowDuration);
  const windowBuckets = readWindowBuckets(check, TIME_BUCKETS_DEFAULTS.windowBuckets);
  if (windowDuration / windowBuckets < 1) {
    check.fail(
      'windowBuckets',
      `an integer between 1 and windowDuration (${windowDuration}), so each bucket spans at least 1 ms`,
      windowBuckets,
    );
  }
  return { windowDuration, windowBuckets };
}

/**
 * The buckets in the Redis scripts' Lua: fields `c<span>` and `f<span>` (calls, failures) of hash
 * `B`, with `st.wn`, `st.wf` the totals and `st.wh` the newest span (-1: none). A reading older
 * than the newest span counts in the newest bucket.
 */
export const TIME_BUCKETS_LUA = `
local function buckets_push(st, failed)
  local span = math.floor(now / (cfg.wd / cfg.wb))
  if span < st.wh then span = st.wh end
  if span > st.wh then
    if st.wh >= 0 then
      for s = st.wh - cfg.wb + 1, math.min(st.wh, span - cfg.wb) do
        local v = redis.call('HMGET', B, 'c' .. s, 'f' .. s)
        st.wn = st.wn - (tonumber(v[1]) or 0)
        st.wf = st.wf - (tonumber(v[2]) or 0)
        redis.call('HDEL', B, 'c' .. s, 'f' .. s)
      end
    end
    st.wh = span
  end
  redis.call('HINCRBY', B, 'c' .. span, 1)
  st.wn = st.wn + 1
  if failed then
    redis.call('HINCRBY', B, 'f' .. span, 1)
    st.wf = st.wf + 1
  end
end`;
