import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { firstValueFrom, type Observable, of } from 'rxjs';
import {
  CircuitBreaker,
  type CircuitBreakerModuleOptions,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  isBreakerOptionsError,
  isCircuitOpenError,
  ManualClock,
} from '../../lib/index.js';

interface Order {
  readonly id: string;
  readonly weight: number;
}

@Injectable()
class Shipping {
  readonly calls: string[] = [];
  failing = new Set<string>();

  @CircuitBreaker('carrier', {
    key: (carrier: string, _order: Order) => carrier,
    fallback: 'queued',
  })
  async ship(carrier: string, order: Order): Promise<string> {
    this.calls.push(`${carrier}:${order.id}`);
    if (this.failing.has(carrier)) throw new Error(`${carrier} is down`);
    return `${carrier} ships ${order.id}`;
  }

  queued(carrier: string, order: Order, error: unknown): string {
    return `queued ${order.id} (${isCircuitOpenError(error) ? 'open' : 'failed'})`;
  }

  // The key function may read only the leading parameters it needs.
  @CircuitBreaker('carrier', { key: (carrier: string) => carrier })
  track(carrier: string, parcel: string): string {
    return `${carrier}/${parcel}`;
  }

  @CircuitBreaker('region', { key: (order: Order) => (order.weight > 10 ? 'heavy' : 'light') })
  quote(order: Order): Observable<number> {
    return of(order.weight * 2);
  }

  @CircuitBreaker('tenant', { key: (tenant: unknown) => tenant as string })
  async forTenant(tenant: unknown): Promise<string> {
    return String(tenant);
  }
}

// Compile-time checks: the key function's parameters must match the method's leading ones.
@Injectable()
export class TypeChecks {
  // @ts-expect-error the key reads a number where the method takes a string
  @CircuitBreaker('carrier', { key: (carrier: number) => String(carrier) })
  wrongType(carrier: string): string {
    return carrier;
  }

  // @ts-expect-error the key declares more parameters than the method has
  @CircuitBreaker('carrier', { key: (carrier: string, _extra: Order) => carrier })
  tooFew(carrier: string): string {
    return carrier;
  }
}

@Injectable()
class SyncWithTimeout {
  @CircuitBreaker('sync', { key: (k: string) => k, timeout: 100 })
  now(k: string): string {
    return k;
  }
}

const apps: INestApplicationContext[] = [];
afterEach(async () => {
  while (apps.length > 0) await apps.pop()!.close();
});

async function boot(options: CircuitBreakerModuleOptions = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      CircuitBreakerModule.forRoot({
        defaults: { clock: new ManualClock(), failureThreshold: 1 },
        ...options,
      }),
    ],
    providers: [Shipping],
  }).compile();
  const app = await moduleRef.init();
  apps.push(app);
  return { shipping: app.get(Shipping), registry: app.get(CircuitBreakerRegistry) };
}

const order: Order = { id: 'o1', weight: 3 };

describe('@CircuitBreaker(family, { key })', () => {
  it('routes each call to its key’s breaker: one carrier failing leaves the others alone', async () => {
    const { shipping, registry } = await boot();
    shipping.failing.add('dhl');
    expect(await shipping.ship('dhl', order)).toBe('queued o1 (failed)');
    expect(await shipping.ship('dhl', order)).toBe('queued o1 (open)');
    expect(await shipping.ship('ups', order)).toBe('ups ships o1');
    expect(shipping.calls).toEqual(['dhl:o1', 'ups:o1']);
    const carriers = registry.family('carrier');
    expect(carriers.get('dhl').state).toBe('OPEN');
    expect(carriers.get('ups').state).toBe('CLOSED');
    expect(carriers.keys()).toEqual(['dhl', 'ups']);
    expect(shipping.track('fedex', 'p1')).toBe('fedex/p1');
    expect(carriers.has('fedex')).toBe(true);
  });

  it('works for Observable methods', async () => {
    const { shipping, registry } = await boot();
    expect(await firstValueFrom(shipping.quote({ id: 'o2', weight: 20 }))).toBe(40);
    expect(registry.family('region').keys()).toEqual(['heavy']);
  });

  it('uses forRoot({ families }) options, merged with the methods’ own', async () => {
    const { shipping, registry } = await boot({
      families: { carrier: { maxKeys: 2, failureThreshold: 4 } },
    });
    for (const carrier of ['a', 'b', 'c']) await shipping.ship(carrier, order);
    const carriers = registry.family('carrier');
    expect(carriers.keys()).toEqual(['b', 'c']);
    expect(carriers.get('c').options.circuit.policy).toMatchObject({ failureThreshold: 4 });
  });

  it('a bad key fails that call in the method’s shape, naming the method and the family', async () => {
    const { shipping, registry } = await boot();
    await expect(shipping.forTenant('')).rejects.toThrow(
      '@CircuitBreaker on Shipping.forTenant (breaker "tenant"): Breaker family "tenant": a key must be a non-empty string',
    );
    await expect(shipping.forTenant(42)).rejects.toThrow('received 42 (number)');
    expect(await shipping.forTenant('acme')).toBe('acme');
    expect(registry.family('tenant').keys()).toEqual(['acme']);
  });

  it('a family’s invalid options fail the bootstrap', async () => {
    let error: unknown;
    try {
      await boot({ families: { carrier: { idleTimeout: -1 } } });
    } catch (e) {
      error = e;
    }
    expect(isBreakerOptionsError(error)).toBe(true);
    expect(error).toMatchObject({ breakerName: 'carrier', option: 'idleTimeout' });
  });

  it('a timeout on a synchronous method routed to a family fails the bootstrap', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CircuitBreakerModule.forRoot({})],
      providers: [SyncWithTimeout],
    }).compile();
    await expect(moduleRef.init()).rejects.toThrow(
      'unset for the synchronous method SyncWithTimeout.now',
    );
    await moduleRef.close();
  });

  it('rejects a key on a class, a family without a name, and a key that is not a function', () => {
    expect(() =>
      CircuitBreaker('x', { key: () => 'k' } as never)(
        class Whole {} as never,
        undefined as never,
        undefined as never,
      ),
    ).toThrow('put it on a method');
    expect(() => CircuitBreaker({ key: () => 'k' } as never)).toThrow('needs a name');
    expect(() => CircuitBreaker('x', { key: 'k' } as never)).toThrow('key must be a function');
    expect(() => CircuitBreaker('a:b', { key: () => 'k' })).toThrow('without ":"');
  });
});
