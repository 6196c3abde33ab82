import { Controller, type DynamicModule, Get, Header, Module, Param } from '@nestjs/common';
import type { MeterProvider } from '@opentelemetry/api';
import { Registry } from 'prom-client';
import { CircuitBreakerModule } from '../../lib/index.js';
import { CircuitBreakerOpenTelemetryModule } from '../../lib/opentelemetry/index.js';
import { CircuitBreakerOpsModule } from '../../lib/ops/index.js';
import { CircuitBreakerPrometheusModule } from '../../lib/prometheus/index.js';
import { DOWNSTREAM_URL, type Quote, QuotesClient } from '../01-flaky-downstream/quotes.client.js';
import { OpsBasicAuthGuard } from './ops.guard.js';

@Controller('quote')
class QuotesController {
  constructor(private readonly quotes: QuotesClient) {}

  @Get(':id')
  quote(@Param('id') id: string): Promise<Quote> {
    return this.quotes.quote(id);
  }
}

@Controller('metrics')
class MetricsController {
  constructor(private readonly registry: Registry) {}

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

export interface OperateOptions {
  downstreamUrl: string;
  /** The ops routes' password (user `ops`). */
  opsPassword: string;
  /** Where the Prometheus metrics are registered and `/metrics` reads them. */
  registry: Registry;
  /** The OpenTelemetry SDK's meter provider. */
  meterProvider: MeterProvider;
}

/**
 * The sample application: one breaker (`downstream`, from sample 01's client) with every way to
 * watch and steer it: Prometheus on `/metrics`, OpenTelemetry instruments, the ops endpoints under
 * `/actuator` behind HTTP Basic authentication, and the live dashboard.
 */
@Module({})
export class AppModule {
  static register(options: OperateOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CircuitBreakerModule.forRoot({
          // Small numbers so that the demo runs in seconds: 3 failures in a row open the
          // circuit, which stays open 1 s before a probe may go.
          defaults: { failureThreshold: 3, openDuration: 1_000 },
          httpErrorFilter: true,
        }),
        CircuitBreakerPrometheusModule.forRoot({ registry: options.registry }),
        CircuitBreakerOpenTelemetryModule.forRoot({ meterProvider: options.meterProvider }),
        CircuitBreakerOpsModule.forRoot({
          guards: [new OpsBasicAuthGuard(options.opsPassword)],
          dashboard: true,
        }),
      ],
      controllers: [QuotesController, MetricsController],
      providers: [
        { provide: DOWNSTREAM_URL, useValue: options.downstreamUrl },
        { provide: Registry, useValue: options.registry },
        QuotesClient,
      ],
    };
  }
}
