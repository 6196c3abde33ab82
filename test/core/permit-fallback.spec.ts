/**
 * `Breaker.fallback`: the rules `execute` applies to its own fallbacks, for calls run under a
 * permit (the Nest invoker's Observables and methods of unknown shape). README: "a fallback
 * answers refused calls and, unless `fallbackOnFailure` is false, failed and timed-out ones; a
 * call's own fallback takes precedence; an error counted as ignored, or as a success by
 * `isFailure`, is never replaced."
 */
import { describe, expect, it } from '@jest/globals';
import {
  Breaker,
  BreakerDisposedError,
  ManualClock,
  isBulkheadRejectedError,
  isCircuitOpenError,
} from '../../lib/core/index.js';

class NotFound extends Error {}

function breaker(extra: Record<string, unknown> = {}): Breaker {
  return new Breaker({ name: 'svc', clock: new ManualClock(), failureThreshold: 1, ...extra });
}

function refusalOf(b: Breaker): unknown {
  try {
    b.acquire();
  } catch (error) {
    return error;
  }
  throw new Error('acquire() was not refused');
}

describe('Breaker.fallback', () => {
  it('answers a refusal with the breaker fallback, called with the error and the args', () => {
    const b = breaker({
      fallback: (error: unknown, args: readonly unknown[]) => ({ error, args }),
    });
    b.acquire().failure(new Error('down'));
    const refusal = refusalOf(b);
    expect(isCircuitOpenError(refusal)).toBe(true);
    expect(b.fallback(refusal, 'refused', { args: [1, 2] })).toEqual({
      error: refusal,
      args: [1, 2],
    });
    expect(b.fallback(refusal, 'refused')).toEqual({ error: refusal, args: [] });
    expect(b.stats()).toMatchObject({ fallbacks: 2, rejections: 1 });
  });

  it('prefers the call own fallback, a value or a function', () => {
    const b = breaker({ fallback: 'breaker' });
    b.acquire().failure(new Error('down'));
    const refusal = refusalOf(b);
    expect(b.fallback(refusal, 'refused', { fallback: 'own' })).toBe('own');
    expect(b.fallback(refusal, 'refused', { fallback: () => 'own fn' })).toBe('own fn');
    expect(b.stats().fallbacks).toBe(2);
  });

  it('answers a bulkhead refusal, never a disposed breaker', () => {
    const b = breaker({ fallback: 'cached', maxConcurrent: 1, maxQueue: 0 });
    b.acquire();
    const refusal = refusalOf(b);
    expect(isBulkheadRejectedError(refusal)).toBe(true);
    expect(b.fallback(refusal, 'refused')).toBe('cached');
    b.dispose();
    const disposed = refusalOf(b);
    expect(disposed).toBeInstanceOf(BreakerDisposedError);
    expect(() => b.fallback(disposed, 'refused')).toThrow(disposed as Error);
    expect(b.stats().fallbacks).toBe(1);
  });

  it('answers failures and timeouts unless fallbackOnFailure is false', () => {
    const b = breaker({ fallback: 'cached', failureThreshold: 5 });
    const error = new Error('down');
    expect(b.fallback(error, b.acquire().failure(error))).toBe('cached');
    expect(b.fallback(b.acquire().timeout(), 'timeout')).toBe('cached');
    const strict = breaker({ fallback: 'cached', failureThreshold: 5, fallbackOnFailure: false });
    expect(() => strict.fallback(error, strict.acquire().failure(error))).toThrow(error);
    expect(() => strict.fallback(error, 'timeout')).toThrow(error);
    expect([b.stats().fallbacks, strict.stats().fallbacks]).toEqual([2, 0]);
  });

  it('never replaces an ignored error, a success, or an outcome already reported', () => {
    const b = breaker({
      fallback: 'cached',
      ignore: [NotFound],
      isFailure: (e: unknown) => e !== 'ok',
    });
    const ignored = new NotFound();
    expect(() => b.fallback(ignored, b.acquire().failure(ignored))).toThrow(ignored);
    expect(() => b.fallback('ok', b.acquire().failure('ok'))).toThrow();
    const permit = b.acquire();
    permit.success();
    const late = new Error('late');
    expect(() => b.fallback(late, permit.failure(late))).toThrow(late);
    expect(b.stats()).toMatchObject({ fallbacks: 0, ignored: 1, successes: 2 });
  });

  it('throws what the fallback throws', () => {
    const thrown = new Error('fallback down');
    const b = breaker({
      fallback: () => {
        throw thrown;
      },
    });
    expect(() => b.fallback(new Error('down'), 'failure')).toThrow(thrown);
  });
});
