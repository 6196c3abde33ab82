import { beforeAll, describe, expect, it } from '@jest/globals';
import { type ArgumentsHost, IntrinsicException } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { WsException } from '@nestjs/websockets';
import { Metadata } from '@grpc/grpc-js';
import { type Observable } from 'rxjs';
import {
  BreakerDisposedError,
  BulkheadRejectedError,
  CircuitBreakerRejectionMapper,
  CircuitOpenError,
  CircuitOpenExceptionFilter,
} from '../../lib/index.js';

function host(type: string, context: unknown = {}, client: unknown = {}): ArgumentsHost {
  return {
    getType: () => type,
    switchToRpc: () => ({ getContext: () => context, getData: () => undefined }),
    switchToWs: () => ({
      getClient: () => client,
      getData: () => undefined,
      getPattern: () => 'p',
    }),
  } as unknown as ArgumentsHost;
}

const mapper = new CircuitBreakerRejectionMapper();
beforeAll(() => mapper.onModuleInit());

const refusals = {
  open: new CircuitOpenError('payments', 'OPEN', 2_500),
  halfOpen: new CircuitOpenError('payments', 'HALF_OPEN', 0),
  isolated: new CircuitOpenError('payments', 'FORCED_OPEN', undefined),
  bulkhead: new BulkheadRejectedError('payments', 4, 0),
  disposed: new BreakerDisposedError('payments'),
};

describe('the rejection mapper outside HTTP', () => {
  it('gives each refusal a stable code and a retry time in whole seconds only when known', () => {
    const payloads = Object.fromEntries(
      Object.entries(refusals).map(([key, error]) => {
        const mapped = mapper.map(error, host('rpc'));
        expect(mapped).toBeInstanceOf(RpcException);
        return [key, (mapped as RpcException).getError()];
      }),
    );
    expect(payloads).toEqual({
      open: {
        status: 'error',
        code: 'CIRCUIT_OPEN',
        message: 'Service unavailable: a dependency is failing, retry later',
        retryAfter: 3,
      },
      halfOpen: {
        status: 'error',
        code: 'CIRCUIT_OPEN',
        message: 'Service unavailable: a dependency is failing, retry later',
        retryAfter: 1,
      },
      isolated: {
        status: 'error',
        code: 'CIRCUIT_ISOLATED',
        message: 'Service unavailable: a dependency is switched off',
      },
      bulkhead: {
        status: 'error',
        code: 'BULKHEAD_FULL',
        message: 'Service busy: too many calls in progress, retry later',
      },
      disposed: {
        status: 'error',
        code: 'BREAKER_SHUT_DOWN',
        message: 'Service unavailable: shutting down',
      },
    });
    expect(JSON.stringify(payloads)).not.toContain('payments');
  });

  it('over gRPC: UNAVAILABLE, with the code and the delay in trailers of the call’s Metadata class', () => {
    const mapped = mapper.map(refusals.open, host('rpc', new Metadata())) as RpcException;
    const status = mapped.getError() as { code: number; details: string; metadata: Metadata };
    expect(status.code).toBe(14);
    expect(status.details).toBe(
      'CIRCUIT_OPEN: Service unavailable: a dependency is failing, retry later',
    );
    expect(status.metadata).toBeInstanceOf(Metadata);
    expect(status.metadata.getMap()).toEqual({
      'circuit-breaker-code': 'CIRCUIT_OPEN',
      'retry-after-ms': '2500',
      'grpc-retry-pushback-ms': '2500',
    });
    const bulkhead = mapper.map(refusals.bulkhead, host('rpc', new Metadata())) as RpcException;
    expect((bulkhead.getError() as { metadata: Metadata }).metadata.getMap()).toEqual({
      'circuit-breaker-code': 'BULKHEAD_FULL',
    });
  });

  it('WebSockets: a WsException with the same payload', () => {
    const mapped = mapper.map(refusals.open, host('ws'));
    expect(mapped).toBeInstanceOf(WsException);
    expect((mapped as WsException).getError()).toMatchObject({
      code: 'CIRCUIT_OPEN',
      retryAfter: 3,
    });
  });

  it('GraphQL: an IntrinsicException (not logged by Nest) with the extensions GraphQL keeps', () => {
    const mapped = mapper.map(refusals.open, host('graphql'));
    expect(mapped).toBeInstanceOf(IntrinsicException);
    expect(mapped).toMatchObject({
      message: 'Service unavailable: a dependency is failing, retry later',
      extensions: { code: 'SERVICE_UNAVAILABLE', reason: 'CIRCUIT_OPEN', retryAfter: 3 },
    });
    expect(mapper.map(refusals.isolated, host('graphql'))).toMatchObject({
      extensions: { code: 'SERVICE_UNAVAILABLE', reason: 'CIRCUIT_ISOLATED' },
    });
  });
});

describe('the filter outside HTTP', () => {
  const filter = new CircuitOpenExceptionFilter(undefined, mapper);

  it('rpc: an error Observable of the RpcException’s error (a string becomes a message)', () => {
    const seen: unknown[] = [];
    const subscribe = (value: unknown) =>
      (value as Observable<never>).subscribe({ error: (e: unknown) => seen.push(e) });
    subscribe(filter.catch(refusals.isolated, host('rpc')));
    class StringMapper extends CircuitBreakerRejectionMapper {
      protected override mapRpc(): unknown {
        return new RpcException('busy');
      }
    }
    subscribe(
      new CircuitOpenExceptionFilter(undefined, new StringMapper()).catch(
        refusals.open,
        host('rpc'),
      ),
    );
    expect(seen).toEqual([
      {
        status: 'error',
        code: 'CIRCUIT_ISOLATED',
        message: 'Service unavailable: a dependency is switched off',
      },
      { status: 'error', message: 'busy' },
    ]);
  });

  it('ws: an exception event, emitted on socket.io sockets and sent on native WebSockets', () => {
    const emitted: unknown[] = [];
    filter.catch(
      refusals.bulkhead,
      host(
        'ws',
        {},
        {
          // A socket.io socket has a send() too (it emits 'message'), but no readyState.
          emit: (...args: unknown[]) => emitted.push(args),
          send: () => emitted.push('wrong'),
        },
      ),
    );
    const sent: string[] = [];
    const native = {
      readyState: 1,
      send: (data: string) => sent.push(data),
      emit: () => emitted.push('wrong'),
    };
    filter.catch(refusals.bulkhead, host('ws', {}, native));
    const payload = {
      status: 'error',
      code: 'BULKHEAD_FULL',
      message: 'Service busy: too many calls in progress, retry later',
    };
    expect(emitted).toEqual([['exception', payload]]);
    expect(sent.map((data) => JSON.parse(data) as unknown)).toEqual([
      { event: 'exception', data: payload },
    ]);
  });

  it('graphql: throws the mapped error on to GraphQL', () => {
    expect(() => filter.catch(refusals.open, host('graphql'))).toThrow(
      expect.objectContaining({
        extensions: expect.objectContaining({ code: 'SERVICE_UNAVAILABLE' }),
      }),
    );
  });
});
