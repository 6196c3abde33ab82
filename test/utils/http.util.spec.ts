import { describe, expect, it } from '@jest/globals';
import { BadRequestException, HttpException } from '@nestjs/common';
import { isHttpClientError, retryAfterSeconds } from '../../lib/utils/http.util.js';
import { BulkheadRejectedError, CircuitOpenError } from '../../lib/index.js';

describe('isHttpClientError', () => {
  it('recognises 4xx HttpException-like errors only', () => {
    expect(isHttpClientError(new BadRequestException())).toBe(true);
    expect(isHttpClientError({ getStatus: () => 499 })).toBe(true);
    expect(isHttpClientError(new HttpException('x', 500))).toBe(false);
    expect(isHttpClientError({ getStatus: () => 399 })).toBe(false);
    expect(isHttpClientError({ getStatus: () => '404' })).toBe(false);
    expect(
      isHttpClientError({
        getStatus: () => {
          throw new Error('x');
        },
      }),
    ).toBe(false);
    expect(isHttpClientError(new Error('x'))).toBe(false);
    expect(isHttpClientError(null)).toBe(false);
  });
});

describe('retryAfterSeconds', () => {
  it('rounds the retry time up to whole seconds, at least 1', () => {
    expect(retryAfterSeconds(new CircuitOpenError('a', 'OPEN', 1_001))).toBe(2);
    expect(retryAfterSeconds(new CircuitOpenError('a', 'OPEN', 30_000))).toBe(30);
    expect(retryAfterSeconds(new CircuitOpenError('a', 'HALF_OPEN', 0))).toBe(1);
  });

  it('has no value for a forced-open circuit, a full bulkhead or another error', () => {
    expect(retryAfterSeconds(new CircuitOpenError('a', 'FORCED_OPEN', undefined))).toBeUndefined();
    expect(retryAfterSeconds(new BulkheadRejectedError('a', 1, 0))).toBeUndefined();
    expect(retryAfterSeconds(new Error('x'))).toBeUndefined();
  });
});
