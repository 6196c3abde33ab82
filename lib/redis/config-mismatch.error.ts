import { type ConfigDifference, describeDifferences } from './circuit-config.js';

/** The brand every error of this package carries (see `lib/core/errors.ts`). */
const BRAND = Symbol.for('nestjs-circuit-breaker.error');
const KIND = 'CircuitConfigMismatchError';

/**
 * This instance's configuration of a circuit differs from the one the fleet shares in Redis, so
 * its breakers of that name decide alone, on their own circuit, until the two match again (see
 * `RedisStore`, "configuration"). It is never thrown at callers: it is the `error` of the
 * `storeStatus` event (`degraded`) the breakers emit, and what the store logs.
 */
export class CircuitConfigMismatchError extends Error {
  /** The breaker (circuit) whose configurations differ. */
  readonly breakerName: string;
  /** Each option that differs, with this instance's value and the one Redis holds. */
  readonly differences: readonly ConfigDifference[];

  constructor(breakerName: string, differences: readonly ConfigDifference[]) {
    super(
      `Circuit breaker "${breakerName}": this instance's configuration differs from the one shared ` +
        `in Redis (${describeDifferences(differences)})`,
    );
    this.breakerName = breakerName;
    this.differences = differences;
  }
}
Object.defineProperty(CircuitConfigMismatchError.prototype, BRAND, { value: KIND });
Object.defineProperty(CircuitConfigMismatchError.prototype, 'name', {
  value: KIND,
  writable: true,
  configurable: true,
});

/** Whether `error` is a {@link CircuitConfigMismatchError} from any copy of this package. */
export function isCircuitConfigMismatchError(error: unknown): error is CircuitConfigMismatchError {
  return (
    error !== null &&
    (typeof error === 'object' || typeof error === 'function') &&
    (error as { [BRAND]?: unknown })[BRAND] === KIND
  );
}
