/**
 * `CircuitBreakerTestingModule` next to an application module that imports
 * `CircuitBreakerModule.forRoot()` / `forRootAsync()` itself, as a test imports the real AppModule:
 * one `ManualClock` for every breaker, per-breaker overrides laid over every layer, any breaker
 * forced into any state, and an event recorder per breaker.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  BreakerOptionsError,
  CircuitBreaker,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  CircuitOpenError,
  InjectCircuitBreaker,
  ManualClock,
  UnknownCircuitBreakerError,
  type Breaker,
} from '../../lib/index.js';
import {
  CircuitBreakerTesting,
  CircuitBreakerTestingModule,
  type CircuitBreakerTestingOptions,
} from '../../lib/testing/index.js';

@Injectable()
class PaymentsClient {
  down = false;
  calls = 0;

  @CircuitBreaker('payments', { fallback: 'cached' })
  async charge(amount: number): Promise<string> {
    this.calls++;
    if (this.down) throw new Error('payments down');
    return `charged ${amount}`;
  }

  cached(amount: number): string {
    return `queued ${amount}`;
  }

  @CircuitBreaker('ledger', { openDuration: 5_000 })
  async record(): Promise<string> {
    if (this.down) throw new Error('ledger down');
    return 'recorded';
  }
}

const appClock = new ManualClock(1_000_000);

@Module({
  imports: [
    CircuitBreakerModule.forRoot({
      defaults: { failureThreshold: 5, openDuration: 30_000, clock: appClock },
      breakers: { payments: { failureThreshold: 3 }, audit: { clock: appClock } },
    }),
  ],
  providers: [PaymentsClient],
})
class AppModule {}

let moduleRef: TestingModule | undefined;

async function compile(
  options?: CircuitBreakerTestingOptions,
  { app = AppModule as unknown, init = true } = {},
) {
  moduleRef = await Test.createTestingModule({
    imports: [app as typeof AppModule, CircuitBreakerTestingModule.forRoot(options)],
  }).compile();
  if (init) await moduleRef.init();
  return {
    breakers: moduleRef.get(CircuitBreakerTesting),
    client: moduleRef.get(PaymentsClient),
    registry: moduleRef.get(CircuitBreakerRegistry),
  };
}

afterEach(async () => {
  await moduleRef?.close();
  moduleRef = undefined;
});

describe('CircuitBreakerTestingModule: the clock and the overrides', () => {
  it('every breaker reads the testing clock, over the clock the application configured', async () => {
    const { breakers, registry } = await compile();
    expect(registry.names()).toEqual(['audit', 'ledger', 'payments']);
    for (const name of registry.names()) {
      expect([name, registry.get(name).options.clock === breakers.clock]).toEqual([name, true]);
    }
    expect(breakers.clock).toBeInstanceOf(ManualClock);
    expect(breakers.clock.now()).toBe(0);
  });

  it('without a clock given, each application compiled from one forRoot() gets a clock of its own', async () => {
    const testing = CircuitBreakerTestingModule.forRoot();
    const first = await Test.createTestingModule({ imports: [AppModule, testing] }).compile();
    const second = await Test.createTestingModule({ imports: [AppModule, testing] }).compile();
    const clocks = [first, second].map((ref) => ref.get(CircuitBreakerTesting).clock);
    expect(clocks[0]).toBeInstanceOf(ManualClock);
    expect(clocks[1]).toBeInstanceOf(ManualClock);
    expect(clocks[0]).not.toBe(clocks[1]);
    expect(second.get(CircuitBreakerRegistry).get('audit').options.clock).toBe(clocks[1]);
    await Promise.all([first.close(), second.close()]);
  });

  it('takes the clock a test passes', async () => {
    const clock = new ManualClock(42);
    const { breakers, registry } = await compile({ clock });
    expect(breakers.clock).toBe(clock);
    expect(registry.get('ledger').options.clock).toBe(clock);
  });

  it('an override wins over defaults, the declaration and @CircuitBreaker; others keep theirs', async () => {
    const { registry } = await compile({
      overrides: { payments: { failureThreshold: 1 }, ledger: { openDuration: 100 } },
    });
    expect(registry.get('payments').options.circuit.policy).toMatchObject({ failureThreshold: 1 });
    expect(registry.get('ledger').options.circuit.openDuration).toBe(100);
    expect(registry.get('audit').options.circuit.policy).toMatchObject({ failureThreshold: 5 });
    expect(registry.get('audit').options.circuit.openDuration).toBe(30_000);
  });

  it('one failure opens an overridden breaker: the fallback answers from the next call', async () => {
    const { client, registry } = await compile({
      overrides: { payments: { failureThreshold: 1 } },
    });
    client.down = true;
    expect(await client.charge(5)).toBe('queued 5');
    expect(registry.get('payments').state).toBe('OPEN');
    expect(await client.charge(6)).toBe('queued 6');
    expect(client.calls).toBe(1);
  });

  it('works with forRootAsync, and with breakers created later by getOrCreate', async () => {
    @Module({
      imports: [
        CircuitBreakerModule.forRootAsync({
          useFactory: () => ({ defaults: { failureThreshold: 4 } }),
        }),
      ],
      providers: [PaymentsClient],
    })
    class AsyncAppModule {}
    const { breakers, registry } = await compile(
      { overrides: { payments: { timeout: 50 } } },
      { app: AsyncAppModule },
    );
    expect(registry.get('payments').options.timeout).toBe(50);
    expect(registry.get('payments').options.circuit.policy).toMatchObject({ failureThreshold: 4 });
    const later = registry.getOrCreate('later', { failureThreshold: 2 });
    expect(later.options.clock).toBe(breakers.clock);
  });

  it('a breaker injected with @InjectCircuitBreaker (built before the explorer runs) gets them too', async () => {
    @Injectable()
    class Holder {
      constructor(@InjectCircuitBreaker('payments') readonly breaker: Breaker) {}
    }
    @Module({
      imports: [CircuitBreakerModule.forRoot({ breakers: { payments: {} } })],
      providers: [Holder],
    })
    class InjectingModule {}
    moduleRef = await Test.createTestingModule({
      imports: [
        InjectingModule,
        CircuitBreakerTestingModule.forRoot({ overrides: { payments: { failureThreshold: 1 } } }),
      ],
    }).compile();
    const { breaker } = moduleRef.get(Holder);
    expect(breaker.options.circuit.policy).toMatchObject({ failureThreshold: 1 });
    expect(breaker.options.clock).toBe(moduleRef.get(CircuitBreakerTesting).clock);
  });
});

describe('CircuitBreakerTesting.force', () => {
  it('OPEN: the fallback answers without a real failure; the clock ends the open period', async () => {
    const { breakers, client } = await compile();
    breakers.force('payments', 'OPEN');
    expect(await client.charge(1)).toBe('queued 1');
    expect(client.calls).toBe(0);
    breakers.clock.advance(29_999);
    expect(breakers.breaker('payments').state).toBe('OPEN');
    breakers.clock.advance(1);
    expect(breakers.breaker('payments').state).toBe('HALF_OPEN');
    expect(await client.charge(2)).toBe('charged 2');
    expect(breakers.events('payments').states()).toEqual(['OPEN', 'HALF_OPEN', 'CLOSED']);
    expect(breakers.events('payments').ofType('stateChange')[0]).toMatchObject({
      from: 'CLOSED',
      to: 'OPEN',
      reason: 'forced',
      openDuration: 30_000,
    });
  });

  it('OPEN without a fallback: the caller gets a CircuitOpenError with the retry time', async () => {
    const { breakers, client } = await compile();
    breakers.force('ledger', 'OPEN');
    breakers.clock.advance(1_000);
    const error = await client.record().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as CircuitOpenError).retryAfter).toBe(4_000);
  });

  it('HALF_OPEN, FORCED_OPEN, DISABLED, CLOSED', async () => {
    const { breakers, client } = await compile();
    breakers.force('ledger', 'HALF_OPEN');
    expect(breakers.breaker('ledger').state).toBe('HALF_OPEN');
    client.down = true;
    await expect(client.record()).rejects.toThrow('ledger down');
    expect(breakers.breaker('ledger').state).toBe('OPEN');
    breakers.force('ledger', 'FORCED_OPEN');
    await expect(client.record()).rejects.toBeInstanceOf(CircuitOpenError);
    breakers.force('ledger', 'DISABLED');
    await expect(client.record()).rejects.toThrow('ledger down');
    client.down = false;
    breakers.force('ledger', 'CLOSED');
    expect(await client.record()).toBe('recorded');
    expect(
      breakers
        .events('ledger')
        .ofType('stateChange')
        .map((e) => `${e.to}:${e.reason}`),
    ).toEqual([
      'HALF_OPEN:forced',
      'OPEN:probe-failed',
      'FORCED_OPEN:isolate',
      'DISABLED:disable',
      'CLOSED:reset',
    ]);
  });

  it('emits stateChange on the registry stream, as any transition', async () => {
    const { breakers, registry } = await compile();
    const seen: string[] = [];
    const subscription = registry.events$.subscribe((e) => {
      if (e.type === 'stateChange') seen.push(`${e.breaker}:${e.event.to}:${e.event.reason}`);
    });
    breakers.force('audit', 'OPEN');
    subscription.unsubscribe();
    expect(seen).toEqual(['audit:OPEN:forced']);
  });

  it('an unknown breaker throws UnknownCircuitBreakerError', async () => {
    const { breakers } = await compile();
    expect(() => breakers.force('paymnets', 'OPEN')).toThrow(UnknownCircuitBreakerError);
    expect(() => breakers.events('paymnets')).toThrow(/did you mean "payments"/);
  });
});

describe('CircuitBreakerTesting.events', () => {
  it('records what each breaker did, in order, from the first call, each breaker apart', async () => {
    const { breakers, client } = await compile({
      overrides: { payments: { failureThreshold: 2 } },
    });
    expect(await client.charge(1)).toBe('charged 1');
    client.down = true;
    await client.charge(2);
    await client.charge(3);
    await client.charge(4);
    await client.record().catch(() => undefined);
    const payments = breakers.events('payments');
    expect(payments.breaker).toBe('payments');
    expect(payments.types()).toEqual(['success', 'failure', 'failure', 'stateChange', 'rejection']);
    expect(payments.all.every((e) => e.breaker === 'payments')).toBe(true);
    expect(payments.states()).toEqual(['OPEN']);
    expect(payments.ofType('failure').map((e) => (e.error as Error).message)).toEqual([
      'payments down',
      'payments down',
    ]);
    expect(breakers.events('ledger').types()).toEqual(['failure']);
    expect(breakers.events('audit').all).toEqual([]);
    expect(breakers.events('payments')).toBe(payments);
  });

  it('clear() forgets one breaker; resetAll() closes every breaker, then forgets everything', async () => {
    const { breakers, client } = await compile();
    breakers.force('payments', 'OPEN');
    breakers.force('ledger', 'FORCED_OPEN');
    breakers.events('payments').clear();
    expect(breakers.events('payments').all).toEqual([]);
    expect(breakers.events('ledger').states()).toEqual(['FORCED_OPEN']);
    await client.charge(1);
    expect(breakers.events('payments').types()).toEqual(['rejection']);
    breakers.resetAll();
    for (const name of ['audit', 'ledger', 'payments']) {
      expect([name, breakers.breaker(name).state, breakers.events(name).all]).toEqual([
        name,
        'CLOSED',
        [],
      ]);
    }
    expect(await client.charge(2)).toBe('charged 2');
    expect(breakers.events('payments').types()).toEqual(['success']);
  });
});

describe('CircuitBreakerTestingModule: bad input, at once or at init()', () => {
  it('a bad override value throws in forRoot(), naming the breaker, the option and where', () => {
    let error: unknown;
    try {
      CircuitBreakerTestingModule.forRoot({ overrides: { payments: { failureThreshold: 0 } } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BreakerOptionsError);
    expect((error as BreakerOptionsError).breakerName).toBe('payments');
    expect((error as BreakerOptionsError).option).toBe('failureThreshold');
    expect((error as Error).message).toContain('received 0');
    expect((error as Error).message).toContain(
      'CircuitBreakerTestingModule.forRoot({ overrides })',
    );
  });

  it('refuses an unknown option key, extends, a clock that is not a ManualClock, non-object overrides', () => {
    expect(() =>
      CircuitBreakerTestingModule.forRoot({ overides: {} } as CircuitBreakerTestingOptions),
    ).toThrow(
      'CircuitBreakerTestingModule.forRoot(): option "overides" must be a known option (clock, overrides): "overrides"?, received {}',
    );
    expect(() =>
      CircuitBreakerTestingModule.forRoot({ overrides: { payments: { extends: 'strict' } } }),
    ).toThrow(/payments.*extends.*CircuitBreakerTestingModule\.forRoot\(\{ overrides \}\)/s);
    expect(() =>
      CircuitBreakerTestingModule.forRoot({
        clock: { now: () => 0 } as unknown as ManualClock,
      }),
    ).toThrow(
      'CircuitBreakerTestingModule.forRoot(): option "clock" must be a ManualClock (from nestjs-circuit-breaker), received',
    );
    expect(() =>
      CircuitBreakerTestingModule.forRoot({
        overrides: [] as unknown as CircuitBreakerTestingOptions['overrides'],
      }),
    ).toThrow('option "overrides" must be an object of breaker options by breaker name');
    expect(() =>
      CircuitBreakerTestingModule.forRoot({ overrides: { x: { tiemout: 1 } } as never }),
    ).toThrow(/"x".*tiemout.*did you mean "timeout"/s);
  });

  it('an override that only fails merged with the others fails when the breaker is built, naming the layer', async () => {
    const compiled = compile({ overrides: { payments: { policy: 'slow-call' } } });
    await expect(compiled).rejects.toThrow(BreakerOptionsError);
    await expect(compiled).rejects.toThrow(
      'Circuit breaker "payments": option "slowCallDuration" must be a finite number of milliseconds > 0 (required by policy "slow-call"), received undefined (in CircuitBreakerTestingModule.forRoot({ overrides }))',
    );
  });

  it('an override for a breaker nobody declares fails init(), suggesting the closest name', async () => {
    await compile({ overrides: { paymnts: { failureThreshold: 1 } } }, { init: false });
    await expect(moduleRef!.init()).rejects.toThrow(
      'CircuitBreakerTestingModule.forRoot({ overrides }): no circuit breaker is named "paymnts" (did you mean "payments"?). Known breakers: "audit", "ledger", "payments"',
    );
  });

  it('with autoCreate, any name may be overridden (the breaker may come later)', async () => {
    @Module({ imports: [CircuitBreakerModule.forRoot({ autoCreate: true })] })
    class AutoModule {}
    moduleRef = await Test.createTestingModule({
      imports: [
        AutoModule,
        CircuitBreakerTestingModule.forRoot({ overrides: { later: { failureThreshold: 9 } } }),
      ],
    }).compile();
    await moduleRef.init();
    expect(moduleRef.get(CircuitBreakerRegistry).get('later').options.circuit.policy).toMatchObject(
      {
        failureThreshold: 9,
      },
    );
  });

  it('before init(), a breaker only a @CircuitBreaker names is unknown, and the error says to init()', async () => {
    const { breakers, client } = await compile({}, { init: false });
    expect(() => breakers.force('ledger', 'OPEN')).toThrow(UnknownCircuitBreakerError);
    expect(() => breakers.force('ledger', 'OPEN')).toThrow(
      'A breaker named only by @CircuitBreaker() is declared when the application initialises (or at its first call): call `await moduleRef.init()` after compile()',
    );
    breakers.force('payments', 'OPEN'); // declared in forRoot: known at once
    expect(await client.charge(1)).toBe('queued 1');
    await moduleRef!.init();
    const after = (() => {
      try {
        breakers.force('paymnets', 'OPEN');
      } catch (error) {
        return error as Error;
      }
      return undefined;
    })();
    expect(after).toBeInstanceOf(UnknownCircuitBreakerError);
    expect(after!.message).not.toContain('moduleRef.init()');
  });

  it('without CircuitBreakerModule, compile() fails saying what to import', async () => {
    await expect(
      Test.createTestingModule({ imports: [CircuitBreakerTestingModule.forRoot()] }).compile(),
    ).rejects.toThrow(
      'CircuitBreakerTestingModule needs CircuitBreakerModule.forRoot() (or forRootAsync()) in the same testing module',
    );
  });
});
