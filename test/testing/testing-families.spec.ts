/**
 * `CircuitBreakerTestingModule` with per-key breakers (families): the testing clock and the
 * overrides reach a family's breakers, `force()` and `events()` take a key's breaker by its name
 * `family:key`, and `resetAll()` closes every key.
 */
import { describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CircuitBreaker, CircuitBreakerModule, CircuitOpenError } from '../../lib/index.js';
import { CircuitBreakerTesting, CircuitBreakerTestingModule } from '../../lib/testing/index.js';

@Injectable()
class Shipping {
  down = new Set<string>();

  @CircuitBreaker('carrier', { key: (carrier: string) => carrier })
  async ship(carrier: string, parcel: string): Promise<string> {
    if (this.down.has(carrier)) throw new Error(`${carrier} down`);
    return `${parcel} via ${carrier}`;
  }
}

@Module({
  imports: [
    CircuitBreakerModule.forRoot({
      families: { carrier: { failureThreshold: 5, openDuration: 20_000 } },
    }),
  ],
  providers: [Shipping],
})
class ShippingModule {}

async function app(overrides?: Record<string, { failureThreshold: number }>) {
  const moduleRef = await Test.createTestingModule({
    imports: [ShippingModule, CircuitBreakerTestingModule.forRoot({ overrides })],
  }).compile();
  await moduleRef.init();
  return {
    moduleRef,
    shipping: moduleRef.get(Shipping),
    testing: moduleRef.get(CircuitBreakerTesting),
  };
}

describe('CircuitBreakerTestingModule with families', () => {
  it('forces one key open on the testing clock; the other keys still call', async () => {
    const { moduleRef, shipping, testing } = await app();
    testing.force('carrier:dhl', 'OPEN');
    await expect(shipping.ship('dhl', 'p1')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(await shipping.ship('ups', 'p2')).toBe('p2 via ups');
    testing.clock.advance(20_000);
    expect(testing.breaker('carrier:dhl').state).toBe('HALF_OPEN');
    expect(await shipping.ship('dhl', 'p3')).toBe('p3 via dhl');
    expect(testing.events('carrier:dhl').states()).toEqual(['OPEN', 'HALF_OPEN', 'CLOSED']);
    await moduleRef.close();
  });

  it("lays an override named after the family over every key's options", async () => {
    const { moduleRef, shipping, testing } = await app({ carrier: { failureThreshold: 1 } });
    shipping.down.add('dhl');
    await expect(shipping.ship('dhl', 'p1')).rejects.toThrow('dhl down');
    expect(testing.breaker('carrier:dhl').state).toBe('OPEN');
    await moduleRef.close();
  });

  it('resetAll() closes every key', async () => {
    const { moduleRef, testing } = await app();
    testing.force('carrier:dhl', 'FORCED_OPEN');
    testing.force('carrier:ups', 'OPEN');
    testing.resetAll();
    expect(testing.breaker('carrier:dhl').state).toBe('CLOSED');
    expect(testing.breaker('carrier:ups').state).toBe('CLOSED');
    await moduleRef.close();
  });
});
