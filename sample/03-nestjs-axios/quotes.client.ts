import { HttpService } from '@nestjs/axios';
import { Injectable } from '@nestjs/common';
import { firstValueFrom, map, Observable } from 'rxjs';
import { CircuitBreaker } from '../../lib/index.js';

export interface Quote {
  id: string;
  price: number;
}

/**
 * Calls the quote service with `@nestjs/axios`, through one breaker for both methods (one
 * dependency, one breaker). The methods let axios's errors through unchanged: a downstream 4xx
 * (`AxiosError` with `response.status` 404) is the caller's fault and the breaker ignores it; a 5xx,
 * a network error or the 1 s timeout is a failure.
 */
@Injectable()
export class QuotesClient {
  constructor(private readonly http: HttpService) {}

  /**
   * An Observable method: each subscription is one call. Nest subscribes when a route returns it;
   * a timeout unsubscribes, which cancels the HTTP request.
   */
  @CircuitBreaker('quotes', { timeout: 1_000 })
  quote$(id: string): Observable<Quote> {
    return this.http
      .get<Quote>(`/quotes/${encodeURIComponent(id)}`)
      .pipe(map((response) => response.data));
  }

  /** The same call as a Promise, with `firstValueFrom`. */
  @CircuitBreaker('quotes', { timeout: 1_000 })
  async quote(id: string): Promise<Quote> {
    const response = await firstValueFrom(
      this.http.get<Quote>(`/quotes/${encodeURIComponent(id)}`),
    );
    return response.data;
  }
}
