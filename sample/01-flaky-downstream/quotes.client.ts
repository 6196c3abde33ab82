import { BadGatewayException, Inject, Injectable } from '@nestjs/common';
import { CircuitBreaker } from '../../lib/index.js';

export const DOWNSTREAM_URL = Symbol('DOWNSTREAM_URL');

export interface Quote {
  id: string;
  price: number;
}

/** Calls the flaky downstream service through a circuit breaker. */
@Injectable()
export class QuotesClient {
  constructor(@Inject(DOWNSTREAM_URL) private readonly baseUrl: string) {}

  /**
   * A 5xx answer or a network error is a failure (the breaker counts it); once the breaker is
   * open, calls are refused at once with a `CircuitOpenError`, which the module's filter turns
   * into `503 Service Unavailable` with `Retry-After`.
   */
  @CircuitBreaker('downstream', { timeout: 1_000 })
  async quote(id: string): Promise<Quote> {
    const response = await fetch(`${this.baseUrl}/quote/${encodeURIComponent(id)}`);
    if (!response.ok) {
      throw new BadGatewayException(`downstream answered ${response.status}`);
    }
    return (await response.json()) as Quote;
  }
}
