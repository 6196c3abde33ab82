import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Module, UseInterceptors } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrpcMethod, type MicroserviceOptions, Transport } from '@nestjs/microservices';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CircuitBreakerInterceptor,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  ManualClock,
} from '../../lib/index.js';
import { freePort } from '../redis/helpers/redis-server.js';
import { breakerOptions, Downstream, OPEN_MS, RecordingLogger } from './fixture/common.js';

const PROTO = join(dirname(fileURLToPath(import.meta.url)), 'fixture', 'quotes.proto');

@Controller()
class QuotesGrpc {
  constructor(private readonly downstream: Downstream) {}

  @GrpcMethod('Quotes', 'Get')
  async get({ id }: { id: string }): Promise<{ quote: string }> {
    return { quote: await this.downstream.quote(id) };
  }
}

@Controller()
@UseInterceptors(CircuitBreakerInterceptor)
class InterceptedQuotesGrpc extends QuotesGrpc {}

type Unary = (
  request: { id: string },
  callback: (error: grpc.ServiceError | null, reply?: { quote: string }) => void,
) => void;

interface QuotesClient extends grpc.Client {
  Get: Unary;
}

describe('gRPC', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  async function start(mode: 'filter' | 'interceptor') {
    const clock = new ManualClock();
    const logger = new RecordingLogger();
    @Module({
      imports: [
        CircuitBreakerModule.forRoot({
          ...breakerOptions(clock),
          httpErrorFilter: mode === 'filter',
        }),
      ],
      controllers: [mode === 'filter' ? QuotesGrpc : InterceptedQuotesGrpc],
      providers: [Downstream],
    })
    class AppModule {}
    const url = `127.0.0.1:${await freePort()}`;
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(AppModule, {
      transport: Transport.GRPC,
      options: { package: 'quotes', protoPath: PROTO, url },
      logger,
    });
    await app.listen();
    const definition = protoLoader.loadSync(PROTO);
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      quotes: { Quotes: new (url: string, credentials: grpc.ChannelCredentials) => QuotesClient };
    };
    const client = new loaded.quotes.Quotes(url, grpc.credentials.createInsecure());
    close = async () => {
      client.close();
      await app.close();
    };
    const get = (id: string) =>
      new Promise<{ quote?: string; error?: grpc.ServiceError }>((resolve) => {
        client.Get({ id }, (error, reply) =>
          resolve(error ? { error } : { quote: reply?.quote ?? '' }),
        );
      });
    return { clock, logger, get, downstream: app.get(Downstream), app };
  }

  describe.each(['filter', 'interceptor'] as const)('through the %s', (mode) => {
    it('a refused call answers UNAVAILABLE with the code and the retry delay in trailers', async () => {
      const { get, downstream, clock, logger } = await start(mode);
      expect(await get('a')).toEqual({ quote: 'quote:a' });
      downstream.healthy = false;
      expect((await get('a')).error?.code).toBe(grpc.status.UNKNOWN);
      const errorsBefore = logger.at('error').length;
      clock.advance(OPEN_MS - 2_500);
      const { error } = await get('a');
      expect(error?.code).toBe(grpc.status.UNAVAILABLE);
      expect(error?.details).toBe(
        'CIRCUIT_OPEN: Service unavailable: a dependency is failing, retry later',
      );
      expect(error?.metadata.get('circuit-breaker-code')).toEqual(['CIRCUIT_OPEN']);
      expect(error?.metadata.get('retry-after-ms')).toEqual(['2500']);
      expect(error?.metadata.get('grpc-retry-pushback-ms')).toEqual(['2500']);
      expect(logger.at('error')).toHaveLength(errorsBefore);
    });

    it('a circuit held open by hand tells retrying clients not to retry', async () => {
      const { get, app } = await start(mode);
      app.get(CircuitBreakerRegistry).get('downstream').isolate();
      const { error } = await get('a');
      expect(error?.code).toBe(grpc.status.UNAVAILABLE);
      expect(error?.metadata.get('circuit-breaker-code')).toEqual(['CIRCUIT_ISOLATED']);
      expect(error?.metadata.get('retry-after-ms')).toEqual([]);
      expect(error?.metadata.get('grpc-retry-pushback-ms')).toEqual(['-1']);
    });
  });
});
