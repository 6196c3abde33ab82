import { Controller, type DynamicModule, Get, Module, Param } from '@nestjs/common';
import { CircuitBreakerModule, CircuitBreakerRegistry } from '../../lib/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { DOWNSTREAM_URL, INSTANCE_NAME, type Quote, QuotesClient } from './quotes.client.js';

@Controller()
class QuotesController {
  constructor(
    private readonly quotes: QuotesClient,
    private readonly breakers: CircuitBreakerRegistry,
    private readonly store: RedisStore,
  ) {}

  @Get('quote/:id')
  quote(@Param('id') id: string): Promise<Quote> {
    return this.quotes.quote(id);
  }

  /** This instance's view of the shared breaker. */
  @Get('breaker')
  breaker() {
    const { state, store, calls, successes, failures, rejections, retryAfter } = this.breakers
      .get('downstream')
      .stats();
    // Outcomes this instance has sent that Redis has not answered for yet.
    const unrecorded = this.store.stats().outcomes.pending;
    return { state, store, calls, successes, failures, rejections, retryAfter, unrecorded };
  }
}

/** One instance of the service. Every instance is given a `RedisStore` on the same Redis. */
@Module({})
export class AppModule {
  static register(options: {
    store: RedisStore;
    downstreamUrl: string;
    instance: string;
  }): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CircuitBreakerModule.forRoot({
          // The store is a breaker option like any other: in `defaults`, every breaker of the
          // application shares its circuit with the breakers of the same name on other instances.
          // Small numbers so that the demo runs in seconds: 3 failures open the circuit for 2 s.
          defaults: { store: options.store, failureThreshold: 3, openDuration: 2_000 },
          httpErrorFilter: true,
        }),
      ],
      controllers: [QuotesController],
      providers: [
        { provide: RedisStore, useValue: options.store },
        { provide: DOWNSTREAM_URL, useValue: options.downstreamUrl },
        { provide: INSTANCE_NAME, useValue: options.instance },
        QuotesClient,
      ],
    };
  }
}
