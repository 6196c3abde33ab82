import { describe, expect, it } from '@jest/globals';
import {
  type ArgumentsHost,
  type CallHandler,
  type ExecutionContext,
  HttpException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { firstValueFrom, isObservable, type Observable, throwError } from 'rxjs';
import {
  BulkheadRejectedError,
  CircuitBreakerInterceptor,
  type CircuitBreakerRegistry,
  type CircuitBreakerRejection,
  CircuitBreakerRejectionMapper,
  CircuitOpenError,
  CircuitOpenExceptionFilter,
} from '../lib/index.js';

function host(type: string, response: unknown = {}): ExecutionContext {
  return {
    getType: () => type,
    switchToHttp: () => ({ getResponse: () => response }),
    getHandler: () => function handler() {},
    getClass: () => class Plain {},
  } as unknown as ExecutionContext;
}

function expressLike(calls: unknown[]) {
  return {
    setHeader: (name: string, value: string) => calls.push(['header', name, value]),
    status(code: number) {
      calls.push(['status', code]);
      return this;
    },
    json: (payload: unknown) => calls.push(['json', payload]),
  };
}

const open = new CircuitOpenError('payments', 'OPEN', 2_500);

class Unavailable extends Error {
  constructor(readonly refusal: CircuitBreakerRejection) {
    super('unavailable');
  }
}

/** One override. */
class RpcMapper extends CircuitBreakerRejectionMapper {
  protected override mapRpc(error: CircuitBreakerRejection): unknown {
    return new Unavailable(error);
  }
}

describe('CircuitBreakerRejectionMapper', () => {
  it('maps a refusal over HTTP to 503 with Retry-After in whole seconds, the refusal as cause', () => {
    const calls: unknown[] = [];
    const mapped = new CircuitBreakerRejectionMapper().map(open, host('http', expressLike(calls)));
    expect(mapped).toBeInstanceOf(ServiceUnavailableException);
    expect((mapped as HttpException).cause).toBe(open);
    expect((mapped as HttpException).getResponse()).toEqual({
      statusCode: 503,
      message: 'Service Unavailable',
    });
    expect(calls).toEqual([['header', 'Retry-After', '3']]);
  });

  it('sets no Retry-After for a full bulkhead, or once the headers are sent', () => {
    const calls: unknown[] = [];
    const mapper = new CircuitBreakerRejectionMapper();
    mapper.map(new BulkheadRejectedError('b', 1, 0), host('http', expressLike(calls)));
    mapper.map(open, host('http', { ...expressLike(calls), headersSent: true }));
    expect(calls).toEqual([]);
  });

  it('hands refusals back unchanged in an unknown context, and any other error everywhere', () => {
    const mapper = new CircuitBreakerRejectionMapper();
    expect(mapper.map(open, host('custom'))).toBe(open);
    const other = new Error('not a refusal');
    for (const type of ['http', 'rpc', 'ws', 'graphql']) {
      expect(mapper.map(other, host(type))).toBe(other);
    }
  });

  it('one overridden hook serves the filter and the interceptor', async () => {
    const mapper = new RpcMapper();
    const filtered = new CircuitOpenExceptionFilter(undefined, mapper).catch(open, host('rpc'));
    expect(isObservable(filtered)).toBe(true);
    let fromFilter: unknown;
    (filtered as Observable<never>).subscribe({ error: (e: unknown) => (fromFilter = e) });
    expect(fromFilter).toBeInstanceOf(Unavailable);

    const interceptor = new CircuitBreakerInterceptor(
      {} as CircuitBreakerRegistry,
      undefined,
      mapper,
    );
    const next: CallHandler = { handle: () => throwError(() => open) };
    const fromInterceptor = await firstValueFrom(interceptor.intercept(host('rpc'), next)).catch(
      (e: unknown) => e,
    );
    expect(fromInterceptor).toBeInstanceOf(Unavailable);
    expect((fromInterceptor as Unavailable).refusal).toBe(open);
  });

  it('the filter answers HTTP with the status and body of what the mapper returns', () => {
    class TooBusy extends CircuitBreakerRejectionMapper {
      protected override mapHttp(): unknown {
        return new HttpException({ busy: true }, 429);
      }
    }
    const calls: unknown[] = [];
    new CircuitOpenExceptionFilter(undefined, new TooBusy()).catch(
      open,
      host('http', expressLike(calls)) as ArgumentsHost,
    );
    expect(calls).toEqual([
      ['status', 429],
      ['json', { busy: true }],
    ]);
  });
});
