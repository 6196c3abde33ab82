import { BadGatewayException, Inject, Injectable } from '@nestjs/common';
import { CircuitBreaker } from '../../lib/index.js';

export const DOWNSTREAM_URL = Symbol('DOWNSTREAM_URL');
export const INSTANCE_NAME = Symbol('INSTANCE_NAME');

export interface Quote {
  id: string;
  price: number;
}

/** Calls the downstream service through the `downstream` breaker, which the fleet shares. */
@Injectable()
export class QuotesClient {
  constructor(
    @Inject(DOWNSTREAM_URL) private readonly baseUrl: string,
    @Inject(INSTANCE_NAME) private readonly instance: string,
  ) {}

  /**
   * A 5xx answer is a failure, counted in Redis for the whole fleet. Once the fleet's circuit is
   * open, every instance refuses calls at once with a `CircuitOpenError` (503 with Retry-After,
   * through the module's filter), without sending them.
   */
  @CircuitBreaker('downstream', { timeout: 2_000 })
  async quote(id: string): Promise<Quote> {
    const response = await fetch(`${this.baseUrl}/quote/${encodeURIComponent(id)}`, {
      headers: { 'x-instance': this.instance },
    });
    if (!response.ok) throw new BadGatewayException(`downstream answered ${response.status}`);
    return (await response.json()) as Quote;
  }
}
