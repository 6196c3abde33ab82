import { describe, expect, it } from '@jest/globals';
import { BadRequestException, HttpException } from '@nestjs/common';
import { AxiosError, AxiosHeaders } from 'axios';
import { httpStatusOf, isHttpClientError, retryAfterSeconds } from '../../lib/utils/http.util.js';
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

/** An `AxiosError` as axios builds one for a response with this status. */
function axiosError(status: number): AxiosError {
  const config = { headers: new AxiosHeaders() };
  return new AxiosError(
    `Request failed with status code ${status}`,
    'ERR_BAD_REQUEST',
    config,
    {},
    {
      status,
      statusText: '',
      headers: {},
      config,
      data: {},
    },
  );
}

/** The shapes other clients throw, built as they build them (no dependency on each client). */
const gotHttpError = (statusCode: number) =>
  Object.assign(new Error(`Response code ${statusCode}`), {
    name: 'HTTPError',
    code: 'ERR_NON_2XX_3XX_RESPONSE',
    response: { statusCode, body: '' },
  });
const undiciStatusError = (statusCode: number) =>
  Object.assign(new Error('Response status code'), {
    name: 'ResponseStatusCodeError',
    code: 'UND_ERR_RESPONSE_STATUS_CODE',
    status: statusCode,
    statusCode,
  });
const kyHttpError = (status: number) =>
  Object.assign(new Error(`Request failed with status code ${status}`), {
    name: 'HTTPError',
    response: { status, ok: false },
  });

describe('httpStatusOf: the shapes common HTTP clients throw', () => {
  it.each([
    ['Nest HttpException', new HttpException('x', 404), 404],
    ['@nestjs/axios / axios AxiosError', axiosError(404), 404],
    ['got HTTPError (response.statusCode)', gotHttpError(410), 410],
    ['undici ResponseStatusCodeError (statusCode, status)', undiciStatusError(403), 403],
    ['ky / ofetch HTTPError (response.status)', kyHttpError(422), 422],
    ['an error with status', Object.assign(new Error('x'), { status: 401 }), 401],
    ['an error with statusCode', Object.assign(new Error('x'), { statusCode: 409 }), 409],
    [
      'an axios network error (no response)',
      new AxiosError('socket hang up', 'ECONNRESET'),
      undefined,
    ],
    ['a plain error', new Error('x'), undefined],
    ['a status out of range', Object.assign(new Error('x'), { status: 42 }), undefined],
    ['a status that is a string', Object.assign(new Error('x'), { status: '404' }), undefined],
    ['a response that is null', Object.assign(new Error('x'), { response: null }), undefined],
  ])('%s', (_shape, error, status) => {
    expect(httpStatusOf(error)).toBe(status);
  });

  it('prefers getStatus(), then the response, then the error itself', () => {
    expect(httpStatusOf({ getStatus: () => 400, response: { status: 500 }, status: 502 })).toBe(
      400,
    );
    expect(httpStatusOf({ response: { status: 404 }, status: 500 })).toBe(404);
    expect(httpStatusOf({ response: { statusCode: 404 }, statusCode: 500 })).toBe(404);
  });

  it('a getter that throws means no status, not an exception', () => {
    const hostile = Object.defineProperty(new Error('x'), 'response', {
      get() {
        throw new Error('boom');
      },
    });
    expect(httpStatusOf(hostile)).toBeUndefined();
  });
});

describe('isHttpClientError: 4xx through any client, except 408 and 429', () => {
  it.each([400, 401, 403, 404, 409, 410, 422, 499])('%i is the caller’s fault', (status) => {
    for (const error of [axiosError(status), gotHttpError(status), undiciStatusError(status)]) {
      expect(isHttpClientError(error)).toBe(true);
    }
  });

  it.each([408, 429, 500, 502, 503, 504, 399, 302])('%i is not', (status) => {
    for (const error of [axiosError(status), gotHttpError(status), undiciStatusError(status)]) {
      expect(isHttpClientError(error)).toBe(false);
    }
    expect(isHttpClientError(new HttpException('x', status))).toBe(false);
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
