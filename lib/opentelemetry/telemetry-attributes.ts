/**
 * The attribute names the instruments and span events use. No semantic convention exists for
 * circuit breakers yet (semantic-conventions#2355), so these are this package's own, under
 * `circuit_breaker.`, except `error.type`, which is the general convention's.
 */
export const ATTRIBUTES = {
  name: 'circuit_breaker.name',
  /** The family of a family's key (ours). */
  family: 'circuit_breaker.family',
  /** The state a series is for (`state`), or the state entered (`state_change.count`). */
  state: 'circuit_breaker.state',
  previousState: 'circuit_breaker.previous_state',
  outcome: 'circuit_breaker.outcome',
  errorType: 'error.type',
  rejectionReason: 'circuit_breaker.rejection.reason',
  transitionReason: 'circuit_breaker.state_change.reason',
  retryAfter: 'circuit_breaker.retry_after',
} as const;

/** A state or reason as an attribute value: `HALF_OPEN` → `half_open`, `forced-open` → `forced_open`. */
export function attributeValue(value: string): string {
  return value.toLowerCase().replaceAll('-', '_');
}

/**
 * `error.type` of a failure: the class name of what the call threw (`TypeError`, `AxiosError`),
 * or `_OTHER` for a value with none (a thrown string, an object without a prototype), as the
 * convention says for an error with no type of its own.
 */
export function errorType(error: unknown): string {
  if ((typeof error === 'object' && error !== null) || typeof error === 'function') {
    const name: unknown = (error as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && name !== '') return name;
  }
  return '_OTHER';
}
