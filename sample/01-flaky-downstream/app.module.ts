import { Controller, type DynamicModule, Get, Module, Param } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { CircuitBreakerModule } from '../../lib/index.js';
import { CircuitBreakerHealthIndicator } from '../../lib/health/index.js';
import { DOWNSTREAM_URL, type Quote, QuotesClient } from './quotes.client.js';

@Controller('quote')
class QuotesController {
  constructor(private readonly quotes: QuotesClient) {}

  @Get(':id')
  quote(@Param('id') id: string): Promise<Quote> {
    return this.quotes.quote(id);
  }
}

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly breakers: CircuitBreakerHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.breakers.isHealthy('circuits')]);
  }
}

/** The sample application, pointed at the downstream service's URL. */
@Module({})
export class AppModule {
  static register(downstreamUrl: string): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CircuitBreakerModule.forRoot({
          // Small numbers so that the demo runs in seconds: 3 failures in a row open the
          // circuit, which stays open 1.5 s before a probe may go.
          defaults: { failureThreshold: 3, openDuration: 1_500 },
          httpErrorFilter: true,
        }),
        TerminusModule.forRoot({ logger: false }),
      ],
      controllers: [QuotesController, HealthController],
      providers: [
        { provide: DOWNSTREAM_URL, useValue: downstreamUrl },
        QuotesClient,
        CircuitBreakerHealthIndicator,
      ],
    };
  }
}
