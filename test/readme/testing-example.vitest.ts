import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { CircuitBreaker, CircuitBreakerModule, CircuitOpenError } from 'nestjs-circuit-breaker';
import { CircuitBreakerTesting, CircuitBreakerTestingModule } from 'nestjs-circuit-breaker/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

@Injectable()
class ShippingClient {
  calls = 0;

  @CircuitBreaker('carrier')
  async quote(weightKg: number): Promise<number> {
    this.calls++;
    return 5 + weightKg;
  }
}

// The application's own module, unchanged for the test.
@Module({
  imports: [CircuitBreakerModule.forRoot({ breakers: { carrier: { openDuration: 20_000 } } })],
  providers: [ShippingClient],
})
class AppModule {}

describe('ShippingClient', () => {
  let moduleRef: TestingModule;
  let breakers: CircuitBreakerTesting;
  let shipping: ShippingClient;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [AppModule, CircuitBreakerTestingModule.forRoot()],
    }).compile();
    await moduleRef.init();
    breakers = moduleRef.get(CircuitBreakerTesting);
    shipping = moduleRef.get(ShippingClient);
  });

  afterEach(async () => {
    await moduleRef.close();
  });

  it('tells the caller when to retry while the carrier is out', async () => {
    breakers.force('carrier', 'OPEN');
    breakers.clock.advance(15_000);
    const error = await shipping.quote(2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as CircuitOpenError).retryAfter).toBe(5_000);
    expect(shipping.calls).toBe(0);
  });

  it('lets one probe through when half-open, and closes on its success', async () => {
    breakers.force('carrier', 'HALF_OPEN');
    expect(await shipping.quote(2)).toBe(7);
    expect(breakers.breaker('carrier').state).toBe('CLOSED');
    expect(breakers.events('carrier').types()).toEqual(['stateChange', 'success', 'stateChange']);
  });
});
