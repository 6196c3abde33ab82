import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Module, UseInterceptors } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientProxyFactory,
  type ClientProxy,
  EventPattern,
  MessagePattern,
  type MicroserviceOptions,
  Transport,
} from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import {
  CircuitBreakerInterceptor,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  ManualClock,
} from '../../lib/index.js';
import { freePort } from '../redis/helpers/redis-server.js';
import { breakerOptions, Downstream, OPEN_MS, RecordingLogger, until } from './fixture/common.js';

@Controller()
class QuotesHandlers {
  events = 0;
  constructor(private readonly downstream: Downstream) {}

  @MessagePattern('quote')
  quote(id: string): Promise<string> {
    return this.downstream.quote(id);
  }

  @EventPattern('refresh')
  async refresh(id: string): Promise<void> {
    this.events++;
    await this.downstream.quote(id);
  }
}

/** The same handlers behind the interceptor, without the module's filter. */
@Controller()
@UseInterceptors(CircuitBreakerInterceptor)
class InterceptedHandlers extends QuotesHandlers {}

describe('microservices over TCP', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  async function start(mode: 'filter' | 'interceptor') {
    const clock = new ManualClock();
    const logger = new RecordingLogger();
    const options = breakerOptions(clock);
    @Module({
      imports: [CircuitBreakerModule.forRoot({ ...options, httpErrorFilter: mode === 'filter' })],
      controllers: [mode === 'filter' ? QuotesHandlers : InterceptedHandlers],
      providers: [Downstream],
    })
    class AppModule {}
    const port = await freePort();
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(AppModule, {
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
      logger,
    });
    await app.listen();
    const client: ClientProxy = ClientProxyFactory.create({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
    });
    await client.connect();
    close = async () => {
      await client.close();
      await app.close();
    };
    const handlers = app.get(mode === 'filter' ? QuotesHandlers : InterceptedHandlers);
    return { clock, logger, client, downstream: app.get(Downstream), handlers, app };
  }

  const send = (client: ClientProxy, id: string) =>
    firstValueFrom(client.send<string>('quote', id)).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );

  describe.each(['filter', 'interceptor'] as const)('through the %s', (mode) => {
    it('@MessagePattern: a refused call answers the RpcException payload, no error log', async () => {
      const { client, downstream, logger, clock } = await start(mode);
      expect(await send(client, 'a')).toEqual({ value: 'quote:a' });
      downstream.healthy = false;
      expect(await send(client, 'a')).toEqual({
        error: { status: 'error', message: 'Internal server error' },
      });
      const errorsBefore = logger.at('error').length;
      const reached = downstream.calls;
      clock.advance(OPEN_MS - 2_500);
      expect(await send(client, 'a')).toEqual({
        error: {
          status: 'error',
          code: 'CIRCUIT_OPEN',
          message: 'Service unavailable: a dependency is failing, retry later',
          retryAfter: 3,
        },
      });
      expect(downstream.calls).toBe(reached);
      expect(logger.at('error')).toHaveLength(errorsBefore);
      expect(JSON.stringify(logger.lines)).not.toContain('downstream" is open');
    });

    it('a circuit held open by hand answers CIRCUIT_ISOLATED without a retry time', async () => {
      const { client, app } = await start(mode);
      app.get(CircuitBreakerRegistry).get('downstream').isolate();
      expect(await send(client, 'a')).toEqual({
        error: {
          status: 'error',
          code: 'CIRCUIT_ISOLATED',
          message: 'Service unavailable: a dependency is switched off',
        },
      });
    });

    it('@EventPattern: a refused event is not logged as an error', async () => {
      const { client, downstream, logger, handlers, app } = await start(mode);
      app.get(CircuitBreakerRegistry).get('downstream').isolate();
      await firstValueFrom(client.emit('refresh', 'a'));
      await until(() => handlers.events === 1, 'the event to be handled');
      // The refusal settles within the handler's own turn; give the transport a few more turns.
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(downstream.calls).toBe(0);
      expect(app.get(CircuitBreakerRegistry).get('downstream').stats().rejections).toBe(1);
      expect(logger.at('error')).toEqual([]);
    });
  });
});
