/**
 * Checks of the breaker options whose values are more than a number: the backoff, error filters,
 * the clock, a snapshot to start from, and the store. Each throws a `BreakerOptionsError` through
 * the checker for the first problem, and returns the value resolved.
 */
import type { BackoffFunction, ResolvedBackoff } from './backoff-options.js';
import { isCircuitState } from './circuit-state.js';
import { type Clock, systemClock } from './clock.js';
import { closestName } from './describe.js';
import { OptionChecker } from './option-checker.js';
import { DEFAULTS } from './resolved-options.js';
import type { CircuitSnapshot } from './snapshot.js';
import type { CircuitStore } from './store/circuit-store.js';

/** `backoff`: `false`/unset (none), a function, or `{ multiplier, maxDuration, jitter }` checked against `openDuration`. */
export function resolveBackoff(
  check: OptionChecker,
  value: unknown,
  openDuration: number,
): ResolvedBackoff | BackoffFunction | undefined {
  if (value === undefined || value === false) return undefined;
  if (typeof value === 'function') return value as BackoffFunction;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    check.fail(
      'backoff',
      'false, an object { multiplier, maxDuration, jitter } or a function (attempt, openDuration) => ms',
      value,
    );
  }
  const inner = new OptionChecker(check.breaker, value as Record<string, unknown>);
  for (const key of Object.keys(value)) {
    if (!['multiplier', 'maxDuration', 'jitter'].includes(key)) {
      const near = closestName(key, ['multiplier', 'maxDuration', 'jitter']);
      check.fail(
        `backoff.${key}`,
        `a known backoff option (multiplier, maxDuration, jitter)${near ? `; did you mean "${near}"?` : ''}`,
        (value as Record<string, unknown>)[key],
      );
    }
  }
  const multiplier = inner.value('multiplier') ?? DEFAULTS.backoffMultiplier;
  if (typeof multiplier !== 'number' || !Number.isFinite(multiplier) || multiplier < 1) {
    check.fail('backoff.multiplier', 'a finite number >= 1', multiplier);
  }
  const maxDuration =
    inner.value('maxDuration') ?? Math.max(DEFAULTS.backoffMaxDuration, openDuration);
  if (
    typeof maxDuration !== 'number' ||
    !Number.isFinite(maxDuration) ||
    maxDuration < openDuration
  ) {
    check.fail(
      'backoff.maxDuration',
      `a finite number of milliseconds >= openDuration (${openDuration})`,
      maxDuration,
    );
  }
  const jitter = inner.value('jitter') ?? DEFAULTS.backoffJitter;
  if (typeof jitter !== 'number' || !Number.isFinite(jitter) || jitter < 0 || jitter > 1) {
    check.fail('backoff.jitter', 'a fraction in [0, 1]', jitter);
  }
  return { multiplier, maxDuration, jitter };
}

/** `ignore` (or another error filter): error classes or a predicate, as a predicate. */
export function toPredicate(
  check: OptionChecker,
  option: string,
  value: unknown,
): ((error: unknown) => boolean) | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'function') return value as (error: unknown) => boolean;
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      if (typeof item !== 'function') check.fail(`${option}[${i}]`, 'an error class', item);
    });
    const classes = value as Array<abstract new (...args: never[]) => unknown>;
    return (error) => classes.some((cls) => error instanceof cls);
  }
  return check.fail(option, 'an array of error classes or a predicate (error) => boolean', value);
}

/** `clock`: an object with `now()`, `setTimeout()` and `clearTimeout()`; the system clock if unset. */
export function validateClock(check: OptionChecker, value: unknown): Clock {
  if (value === undefined) return systemClock;
  const clock = value as Partial<Clock> | null;
  if (
    typeof clock !== 'object' ||
    clock === null ||
    typeof clock.now !== 'function' ||
    typeof clock.setTimeout !== 'function' ||
    typeof clock.clearTimeout !== 'function'
  ) {
    check.fail('clock', 'an object with now(), setTimeout() and clearTimeout()', value);
  }
  return clock as Clock;
}

/** `initialState`: a snapshot of this breaker (from `toJSON()`), consistent in itself. */
export function validateSnapshot(
  check: OptionChecker,
  value: unknown,
): CircuitSnapshot | undefined {
  if (value === undefined) return undefined;
  const s = value as Partial<CircuitSnapshot> | null;
  if (typeof s !== 'object' || s === null) check.fail('initialState', 'a snapshot object', value);
  if (!isCircuitState(s.state)) {
    check.fail(
      'initialState.state',
      'one of CLOSED, OPEN, HALF_OPEN, FORCED_OPEN, DISABLED',
      s.state,
    );
  }
  const numbers: Array<[keyof CircuitSnapshot, boolean]> = [
    ['generation', true],
    ['since', true],
    ['failedProbes', true],
    ['openedAt', s.state === 'OPEN'],
    ['openUntil', s.state === 'OPEN'],
  ];
  for (const [key, required] of numbers) {
    const v = s[key];
    if (v === undefined && !required) continue;
    const integer = key === 'generation' || key === 'failedProbes';
    if (
      typeof v !== 'number' ||
      !Number.isFinite(v) ||
      Math.abs(v) > Number.MAX_SAFE_INTEGER ||
      (integer && (!Number.isSafeInteger(v) || v < 0))
    ) {
      check.fail(
        `initialState.${key}`,
        integer
          ? 'an integer >= 0'
          : 'a clock reading in ms (a finite number of magnitude <= Number.MAX_SAFE_INTEGER)',
        v,
      );
    }
  }
  if (s.state === 'OPEN' && s.openUntil! < s.openedAt!) {
    check.fail(
      'initialState.openUntil',
      `a clock reading >= initialState.openedAt (${s.openedAt})`,
      s.openUntil,
    );
  }
  const name = (s as { name?: unknown }).name;
  if (name !== undefined && name !== check.breaker) {
    check.fail(
      'initialState.name',
      `this breaker's name ("${check.breaker}") or unset: a snapshot of another breaker`,
      name,
    );
  }
  return s as CircuitSnapshot;
}

/** `store`: a `CircuitStore` (an object with `bind()`). */
export function validateStore(check: OptionChecker, value: unknown): CircuitStore | undefined {
  const store = value as CircuitStore | undefined;
  if (
    store !== undefined &&
    (typeof store !== 'object' || store === null || typeof store.bind !== 'function')
  ) {
    check.fail('store', 'a CircuitStore (an object with bind())', store);
  }
  return store;
}
