/**
 * A state store (`BreakerOptions.store`) reaches the engine through every layer of the module's
 * options: `forRoot({ defaults })`, `forRootAsync()`'s factory, one breaker's options, a named
 * configuration, and `@CircuitBreaker()`'s per-method options. Two applications given one
 * `InMemoryStore` stand for two instances sharing a Redis store: a breaker tripped in one refuses
 * calls in the other without calling the dependency.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  Injectable,
  type INestApplicationContext,
  type DynamicModule,
  type Type,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  type Breaker,
  CircuitBreaker,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  CircuitOpenError,
  type CircuitStore,
  InMemoryStore,
} from '../lib/index.js';

@Injectable()
class Dependency {
  calls = 0;
  failing = false;

  @CircuitBreaker('payments')
  async charge(): Promise<string> {
    this.calls++;
    if (this.failing) throw new Error('payments down');
    return 'charged';
  }
}

let store: CircuitStore;

/** A class whose decorated method names the store itself (decorators run when the class is made). */
function perMethodDependency(methodStore: CircuitStore) {
  @Injectable()
  class PerMethodDependency {
    calls = 0;

    @CircuitBreaker('ledger', { store: methodStore })
    async write(): Promise<string> {
      this.calls++;
      throw new Error('ledger down');
    }
  }
  return PerMethodDependency;
}

const apps: INestApplicationContext[] = [];

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function boot(root: DynamicModule, provider: Type) {
  const moduleRef = await Test.createTestingModule({
    imports: [root],
    providers: [provider],
  }).compile();
  const app = await moduleRef.init();
  apps.push(app);
  return app;
}

async function failTwice(call: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 2; i++) await call().catch(() => undefined);
}

describe('a store in the module options', () => {
  const cases: Array<[string, () => DynamicModule]> = [
    [
      'forRoot({ defaults })',
      () => CircuitBreakerModule.forRoot({ defaults: { store, failureThreshold: 2 } }),
    ],
    [
      'forRootAsync() factory',
      () =>
        CircuitBreakerModule.forRootAsync({
          useFactory: async () => ({ defaults: { store, failureThreshold: 2 } }),
        }),
    ],
    [
      'forRoot({ breakers })',
      () =>
        CircuitBreakerModule.forRoot({ breakers: { payments: { store, failureThreshold: 2 } } }),
    ],
    [
      'forRoot({ configs }) and extends',
      () =>
        CircuitBreakerModule.forRoot({
          configs: { shared: { store } },
          breakers: { payments: { extends: 'shared', failureThreshold: 2 } },
        }),
    ],
  ];

  it.each(cases)('%s: two applications share one circuit', async (_label, root) => {
    store = new InMemoryStore();
    const a = await boot(root(), Dependency);
    const b = await boot(root(), Dependency);
    const breakerA: Breaker = a.get(CircuitBreakerRegistry).get('payments');
    const breakerB: Breaker = b.get(CircuitBreakerRegistry).get('payments');
    expect(breakerA).not.toBe(breakerB);
    expect(breakerA.options.store).toBe(store);
    expect(breakerB.options.store).toBe(store);

    const depA = a.get(Dependency);
    const depB = b.get(Dependency);
    depA.failing = true;
    await failTwice(() => depA.charge());
    expect(breakerA.state).toBe('OPEN');
    // The other application never called its dependency, and refuses.
    expect(breakerB.state).toBe('OPEN');
    await expect(depB.charge()).rejects.toBeInstanceOf(CircuitOpenError);
    expect(depB.calls).toBe(0);
  });

  it('@CircuitBreaker() per-method options', async () => {
    store = new InMemoryStore();
    const Ledger = perMethodDependency(store);
    const root = () => CircuitBreakerModule.forRoot({ defaults: { failureThreshold: 2 } });
    const a = await boot(root(), Ledger);
    const b = await boot(root(), Ledger);
    expect(a.get(CircuitBreakerRegistry).get('ledger').options.store).toBe(store);
    await failTwice(() => a.get(Ledger).write());
    await expect(b.get(Ledger).write()).rejects.toBeInstanceOf(CircuitOpenError);
    expect(b.get(Ledger).calls).toBe(0);
  });

  it('without a store, each application keeps its own circuit', async () => {
    const root = () => CircuitBreakerModule.forRoot({ defaults: { failureThreshold: 2 } });
    const a = await boot(root(), Dependency);
    const b = await boot(root(), Dependency);
    a.get(Dependency).failing = true;
    await failTwice(() => a.get(Dependency).charge());
    expect(a.get(CircuitBreakerRegistry).get('payments').state).toBe('OPEN');
    await expect(b.get(Dependency).charge()).resolves.toBe('charged');
  });
});

describe('declarations that name stores', () => {
  function twoMethods(first: CircuitStore, second: CircuitStore) {
    @Injectable()
    class TwoMethods {
      @CircuitBreaker('inventory', { store: first })
      async reserve(): Promise<string> {
        return 'reserved';
      }

      @CircuitBreaker('inventory', { store: second })
      async release(): Promise<string> {
        return 'released';
      }
    }
    return TwoMethods;
  }

  it('two methods naming two different stores for one breaker fail the bootstrap, naming the option', async () => {
    const root = CircuitBreakerModule.forRoot({});
    const Subject = twoMethods(new InMemoryStore(), new InMemoryStore());
    await expect(boot(root, Subject)).rejects.toThrow(/inventory[\s\S]*store/);
  });

  it('two methods naming the same store agree', async () => {
    const shared = new InMemoryStore();
    const app = await boot(CircuitBreakerModule.forRoot({}), twoMethods(shared, shared));
    expect(app.get(CircuitBreakerRegistry).get('inventory').options.store).toBe(shared);
  });
});
