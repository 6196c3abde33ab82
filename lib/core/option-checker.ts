import { describeValue } from './describe.js';
import { BreakerOptionsError } from './errors.js';

/** The largest delay `setTimeout` honours (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMER_DELAY = 2_147_483_647;

/**
 * Reads options out of one object of options, checking each against a rule and throwing a
 * {@link BreakerOptionsError} that names the breaker, the option, what was expected and what was
 * received. An unset option (`undefined`) reads as the fallback given. The validator and every
 * trip policy's descriptor check options through it, so that their messages are worded alike.
 */
export class OptionChecker {
  constructor(
    /** The breaker named in errors (or the layer being checked, such as `defaults`). */
    readonly breaker: string,
    private readonly source: Record<string, unknown>,
  ) {}

  /** Throws the error for `option`. */
  fail(option: string, expected: string, value: unknown): never {
    throw new BreakerOptionsError(this.breaker, option, expected, describeValue(value));
  }

  /** The raw value of `option`, unchecked. */
  value(option: string): unknown {
    return this.source[option];
  }

  /** A safe integer in [`min`, `max`]. */
  integer(option: string, min: number, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.source[option];
    if (value === undefined) return fallback;
    const expected =
      max < Number.MAX_SAFE_INTEGER
        ? `an integer between ${min} and ${max}`
        : min === 0
          ? 'an integer >= 0'
          : `an integer >= ${min}`;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      this.fail(option, expected, value);
    }
    return value;
  }

  /** A finite number of milliseconds > 0 (>= 0 with `zero`), at most a timer's delay with `timer`. */
  duration(
    option: string,
    fallback: number,
    opts: { zero?: boolean; timer?: boolean } = {},
  ): number {
    const value = this.source[option];
    if (value === undefined) return fallback;
    const max = opts.timer ? MAX_TIMER_DELAY : Number.MAX_SAFE_INTEGER;
    const lower = opts.zero ? '>= 0' : '> 0';
    const expected = `a finite number of milliseconds ${lower} and <= ${max}`;
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      (opts.zero ? value < 0 : value <= 0) ||
      value > max
    ) {
      this.fail(option, expected, value);
    }
    return value;
  }

  /** A fraction in (0, 1], with a hint when the value looks like a percentage. */
  fraction(option: string, fallback: number): number {
    const value = this.source[option];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 1) {
      const hint =
        typeof value === 'number' && value > 1 && value <= 100
          ? ` (a rate is a fraction: use ${value / 100} for ${value}%)`
          : '';
      this.fail(option, `a fraction in (0, 1]${hint}`, value);
    }
    return value;
  }

  /** A boolean. */
  boolean(option: string, fallback: boolean): boolean {
    const value = this.source[option];
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') this.fail(option, 'a boolean', value);
    return value;
  }

  /** A function, or `undefined` when unset. */
  fn<F>(option: string): F | undefined {
    const value = this.source[option];
    if (value === undefined) return undefined;
    if (typeof value !== 'function') this.fail(option, 'a function', value);
    return value as F;
  }
}
