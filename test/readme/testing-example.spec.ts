import { describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  CircuitBreaker,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  CircuitOpenError,
  ManualClock,
} from 'nestjs-circuit-breaker';

@Injectable()
class PricesClient {
  down = false;

  @CircuitBreaker('prices')
  async price(sku: string): Promise<number> {
    if (this.down) throw new Error('prices down');
    return sku.length;
  }
}

describe('PricesClient', () => {
  it('stops calling the prices API after 2 failures, and probes it again after 10 s', async () => {
    const clock = new ManualClock();
    const moduleRef = await Test.createTestingModule({
      imports: [
        CircuitBreakerModule.forRoot({
          defaults: { clock, failureThreshold: 2, openDuration: 10_000 },
        }),
      ],
      providers: [PricesClient],
    }).compile(); // no init() needed
    const prices = moduleRef.get(PricesClient);

    prices.down = true;
    await expect(prices.price('a')).rejects.toThrow('prices down');
    await expect(prices.price('a')).rejects.toThrow('prices down');
    await expect(prices.price('a')).rejects.toBeInstanceOf(CircuitOpenError);

    prices.down = false;
    clock.advance(10_000);
    expect(await prices.price('abc')).toBe(3);
    expect(moduleRef.get(CircuitBreakerRegistry).get('prices').state).toBe('CLOSED');
    await moduleRef.close();
  });
});
