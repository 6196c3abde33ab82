import { afterEach, describe, expect, it } from '@jest/globals';
import { type INestApplication, Module, UseFilters, UseInterceptors } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { io, type Socket } from 'socket.io-client';
import {
  CircuitBreakerInterceptor,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  CircuitOpenExceptionFilter,
  ManualClock,
} from '../../lib/index.js';
import { breakerOptions, Downstream, OPEN_MS, RecordingLogger } from './fixture/common.js';

@WebSocketGateway()
class PlainGateway {
  constructor(private readonly downstream: Downstream) {}

  @SubscribeMessage('quote')
  quote(@MessageBody() id: string): Promise<string> {
    return this.downstream.quote(id);
  }
}

/** Nest applies no global filter to gateways: the filter is named on the gateway. */
@WebSocketGateway()
@UseFilters(CircuitOpenExceptionFilter)
class QuotesGateway extends PlainGateway {}

@WebSocketGateway()
@UseInterceptors(CircuitBreakerInterceptor)
class InterceptedQuotesGateway extends PlainGateway {}

describe('WebSockets (socket.io)', () => {
  let app: INestApplication | undefined;
  let socket: Socket | undefined;
  afterEach(async () => {
    socket?.close();
    socket = undefined;
    await app?.close();
    app = undefined;
  });

  async function start(mode: 'filter' | 'interceptor') {
    const clock = new ManualClock();
    const logger = new RecordingLogger();
    @Module({
      imports: [
        CircuitBreakerModule.forRoot({
          ...breakerOptions(clock),
          httpErrorFilter: false,
        }),
      ],
      providers: [Downstream, mode === 'filter' ? QuotesGateway : InterceptedQuotesGateway],
    })
    class AppModule {}
    app = await NestFactory.create(AppModule, { logger, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    const client = io(`http://127.0.0.1:${port}`, {
      transports: ['websocket'],
      reconnection: false,
    });
    socket = client;
    await new Promise<void>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('connect_error', reject);
    });
    /** Sends `quote`: the acknowledgement, or the `exception` event's data. */
    const ask = (id: string) =>
      new Promise<{ reply?: unknown; exception?: unknown }>((resolve) => {
        const onException = (exception: unknown) => resolve({ exception });
        client.once('exception', onException);
        client.emit('quote', id, (reply: unknown) => {
          client.off('exception', onException);
          resolve({ reply });
        });
      });
    return {
      clock,
      logger,
      ask,
      downstream: app.get(Downstream),
      registry: app.get(CircuitBreakerRegistry),
    };
  }

  describe.each(['filter', 'interceptor'] as const)('through the %s', (mode) => {
    it('a refused message answers the WsException payload in the exception event', async () => {
      const { ask, downstream, clock, logger } = await start(mode);
      expect(await ask('a')).toEqual({ reply: 'quote:a' });
      downstream.healthy = false;
      expect(await ask('a')).toEqual({
        exception: {
          status: 'error',
          message: 'Internal server error',
          cause: { pattern: 'quote', data: 'a' },
        },
      });
      const errorsBefore = logger.at('error').length;
      const reached = downstream.calls;
      clock.advance(OPEN_MS - 2_500);
      expect(await ask('a')).toEqual({
        exception: {
          status: 'error',
          code: 'CIRCUIT_OPEN',
          message: 'Service unavailable: a dependency is failing, retry later',
          retryAfter: 3,
        },
      });
      expect(downstream.calls).toBe(reached);
      expect(logger.at('error')).toHaveLength(errorsBefore);
    });

    it('a breaker shut down answers BREAKER_SHUT_DOWN without a retry time', async () => {
      const { ask, registry } = await start(mode);
      registry.get('downstream').dispose();
      expect(await ask('a')).toEqual({
        exception: {
          status: 'error',
          code: 'BREAKER_SHUT_DOWN',
          message: 'Service unavailable: shutting down',
        },
      });
    });
  });
});
