import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { CircuitBreaker, CircuitBreakerModule, CircuitOpenError } from 'nestjs-circuit-breaker';
import { CircuitBreakerTesting, CircuitBreakerTestingModule } from 'nestjs-circuit-breaker/testing';

@Injectable()
class PricesClient {
  down = false;
  calls = 0;

  @CircuitBreaker('prices', { fallback: 'lastKnown' })
  async price(sku: string): Promise<number> {
    this.calls++;
    if (this.down) throw new Error('prices down');
    return sku.length;
  }

  lastKnown(): number {
    return 0;
  }

  @CircuitBreaker('stock')
  async inStock(sku: string): Promise<boolean> {
    return sku !== '';
  }
}

// The application's own module, unchanged for the test.
@Module({
  imports: [
    CircuitBreakerModule.forRoot({ defaults: { failureThreshold: 5, openDuration: 10_000 } }),
  ],
  providers: [PricesClient],
})
class AppModule {}

describe('PricesClient', () => {
  let moduleRef: TestingModule;
  let breakers: CircuitBreakerTesting;
  let prices: PricesClient;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [
        AppModule,
        CircuitBreakerTestingModule.forRoot({ overrides: { prices: { failureThreshold: 1 } } }),
      ],
    }).compile();
    await moduleRef.init(); // declares the breakers only a @CircuitBreaker names
    breakers = moduleRef.get(CircuitBreakerTesting);
    prices = moduleRef.get(PricesClient);
  });

  afterEach(async () => {
    await moduleRef.close();
  });

  it('answers from the fallback while the circuit is open, without calling the API', async () => {
    breakers.force('prices', 'OPEN');
    expect(await prices.price('abc')).toBe(0);
    expect(prices.calls).toBe(0);
    expect(breakers.events('prices').types()).toEqual(['stateChange', 'rejection']);
  });

  it('probes the API again once the open period is over', async () => {
    breakers.force('prices', 'OPEN');
    breakers.clock.advance(10_000);
    expect(await prices.price('abc')).toBe(3);
    expect(breakers.events('prices').states()).toEqual(['OPEN', 'HALF_OPEN', 'CLOSED']);
  });

  it('opens after one failure (the override), and the fallback answers', async () => {
    prices.down = true;
    expect(await prices.price('abc')).toBe(0);
    expect(breakers.breaker('prices').state).toBe('OPEN');
  });

  it('rejects with CircuitOpenError where there is no fallback', async () => {
    breakers.force('stock', 'FORCED_OPEN');
    await expect(prices.inStock('abc')).rejects.toBeInstanceOf(CircuitOpenError);
  });
});
