import type { OptionChecker } from '../option-checker.js';
import type { OptionRead } from './policy-descriptor.js';
import { RATE_DEFAULTS, readFailureRateThreshold, readMinimumCalls } from './rate-rule.js';

/** The largest `windowSize`: the window keeps one byte per call, so 1 MB per breaker at most. */
export const MAX_WINDOW_SIZE = 1_000_000;

/** A call's bit in the ring: it failed. */
export const FAILED = 1;
/** A call's bit in the ring: it was slow. */
export const SLOW = 2;

/**
 * A window over the last `size` calls: a ring of one byte per call (bit 0 failed, bit 1 slow)
 * with running counts, so recording a call is O(1) however full the window. The count-based rate
 * policies extend it, so that its fields are theirs (no extra object on the hot path).
 */
export abstract class CountRing {
  /** Calls in the window. */
  protected count = 0;
  /** Failed calls in the window. */
  protected failures = 0;
  /** Slow calls in the window. */
  protected slow = 0;
  /** Allocated on the first outcome, so an idle breaker costs nothing. */
  private ring: Uint8Array | undefined = undefined;
  private next = 0;

  constructor(private readonly size: number) {}

  /** Forgets every call. */
  reset(): void {
    this.ring?.fill(0);
    this.next = 0;
    this.count = 0;
    this.failures = 0;
    this.slow = 0;
  }

  /**
   * Records a call (`FAILED | SLOW` bits), pushing the oldest out of a full window. Counts change
   * only for calls that set a bit: the common case, a fast success replacing another, writes the
   * ring and its index and nothing else.
   */
  protected push(bits: number): void {
    const ring = (this.ring ??= new Uint8Array(this.size));
    const next = this.next;
    if (this.count < this.size) {
      this.count++;
    } else {
      const old = ring[next]!;
      if (old !== 0) {
        this.failures -= old & FAILED;
        this.slow -= old >> 1;
      }
    }
    ring[next] = bits;
    if (bits !== 0) {
      this.failures += bits & FAILED;
      this.slow += bits >> 1;
    }
    this.next = next + 1 === this.size ? 0 : next + 1;
  }
}

/** `windowSize`: the number of most recent calls in the window. */
export const readWindowSize: OptionRead = (check, fallback) =>
  check.integer('windowSize', 1, fallback, MAX_WINDOW_SIZE);

/** The options of a count-based rate window, resolved. */
export interface CountWindowOptions {
  readonly windowSize: number;
  readonly minimumCalls: number;
  readonly failureRateThreshold: number;
}

/** Defaults of a count-based rate window's options. */
export const COUNT_WINDOW_DEFAULTS = { windowSize: 100, ...RATE_DEFAULTS } as const;

/**
 * Resolves a count-based rate window's options: `minimumCalls` defaults to at most `windowSize`,
 * and may not exceed it (the circuit could never open).
 */
export function resolveCountWindow(check: OptionChecker): CountWindowOptions {
  const windowSize = readWindowSize(check, COUNT_WINDOW_DEFAULTS.windowSize);
  const minimumCalls = readMinimumCalls(
    check,
    Math.min(COUNT_WINDOW_DEFAULTS.minimumCalls, windowSize),
  );
  if (minimumCalls > windowSize) {
    check.fail(
      'minimumCalls',
      `an integer between 1 and windowSize (${windowSize}), or the circuit could never open`,
      minimumCalls,
    );
  }
  const failureRateThreshold = readFailureRateThreshold(
    check,
    COUNT_WINDOW_DEFAULTS.failureRateThreshold,
  );
  return { windowSize, minimumCalls, failureRateThreshold };
}

/**
 * The ring in the Redis scripts' Lua: a string of one character per call ('0' + 1 if failed + 2 if
 * slow) under key `R`, with `st.wn`, `st.wf`, `st.ws` its counts and `st.wi` the next index.
 */
export const COUNT_RING_LUA = `
local function ring_push(st, failed, slow)
  local i = st.wi
  if st.wn < cfg.n then
    st.wn = st.wn + 1
  else
    local old = redis.call('GETRANGE', R, i, i)
    local bits = 0
    if old ~= '' then bits = string.byte(old) - 48 end
    if bits % 2 == 1 then st.wf = st.wf - 1 end
    if bits >= 2 then st.ws = st.ws - 1 end
  end
  redis.call('SETRANGE', R, i, string.char(48 + (failed and 1 or 0) + (slow and 2 or 0)))
  if failed then st.wf = st.wf + 1 end
  if slow then st.ws = st.ws + 1 end
  st.wi = (i + 1) % cfg.n
end`;
