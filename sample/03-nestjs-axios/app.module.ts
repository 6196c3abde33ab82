import { HttpModule } from '@nestjs/axios';
import {
  BadGatewayException,
  Controller,
  type DynamicModule,
  Get,
  HttpException,
  Module,
  Param,
} from '@nestjs/common';
import { isAxiosError } from 'axios';
import { catchError, type Observable } from 'rxjs';
import { CircuitBreakerModule, isRejection } from '../../lib/index.js';
import { type Quote, QuotesClient } from './quotes.client.js';

/**
 * What the app answers for an error of the quote service, outside the breaker: the service's own
 * 4xx is passed on (404 stays 404), a refused call is left to the module's filter (503 with
 * `Retry-After`), anything else is the service failing: 502 Bad Gateway.
 */
function toHttpError(error: unknown): unknown {
  if (isRejection(error)) return error;
  const status = isAxiosError(error) ? error.response?.status : undefined;
  if (status !== undefined && status >= 400 && status < 500) {
    return new HttpException(error instanceof Error ? error.message : 'client error', status);
  }
  return new BadGatewayException('the quote service failed');
}

@Controller('quote')
class QuotesController {
  constructor(private readonly quotes: QuotesClient) {}

  /** Returns the Observable: Nest subscribes to it, and the breaker guards that subscription. */
  @Get(':id')
  quote(@Param('id') id: string): Observable<Quote> {
    return this.quotes.quote$(id).pipe(
      catchError((error: unknown) => {
        throw toHttpError(error);
      }),
    );
  }

  @Get(':id/async')
  async quoteAsync(@Param('id') id: string): Promise<Quote> {
    try {
      return await this.quotes.quote(id);
    } catch (error) {
      throw toHttpError(error);
    }
  }
}

/** The sample application, pointed at the quote service's URL. */
@Module({})
export class AppModule {
  static register(quoteServiceUrl: string): DynamicModule {
    return {
      module: AppModule,
      imports: [
        HttpModule.register({ baseURL: quoteServiceUrl }),
        CircuitBreakerModule.forRoot({
          // Small numbers so that the demo runs in seconds.
          defaults: { failureThreshold: 3, openDuration: 1_500 },
          httpErrorFilter: true,
        }),
      ],
      controllers: [QuotesController],
      providers: [QuotesClient],
    };
  }
}
