import { describe, expect, it } from '@jest/globals';
import { filter, map } from 'rxjs';
import { HttpException, NotFoundException } from '@nestjs/common';
import {
  type BreakerStats,
  type CircuitBreakerEvent,
  type CircuitBreakerModuleOptions,
  CircuitBreakerModuleOptionsError,
  CircuitBreakerRegistry,
  ManualClock,
  UnknownCircuitBreakerError,
} from '../lib/index.js';

/** A few turns of the event loop: long enough for rxjs to rethrow an unhandled subscriber error. */
async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setTimeout(resolve, 0));
}

function registry(options: CircuitBreakerModuleOptions = {}): CircuitBreakerRegistry {
  return new CircuitBreakerRegistry({ defaults: { clock: new ManualClock() }, ...options });
}

async function fail(
  r: CircuitBreakerRegistry,
  name: string,
  error: unknown,
  times = 1,
): Promise<void> {
  for (let i = 0; i < times; i++) {
    await r
      .get(name)
      .execute(async () => {
        throw error;
      })
      .catch(() => undefined);
  }
}

describe('CircuitBreakerRegistry', () => {
  describe('get', () => {
    it('names the known breakers and the closest one when a name is unknown', () => {
      const r = registry({ breakers: { payments: {}, search: {} } });
      let error: unknown;
      try {
        r.get('paymnts');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UnknownCircuitBreakerError);
      expect((error as Error).message).toContain(
        'Unknown circuit breaker "paymnts" (did you mean "payments"?). Known breakers: "payments", "search".',
      );
    });

    it('creates unknown names from the defaults when autoCreate is on', () => {
      const r = registry({ autoCreate: true, defaults: { failureThreshold: 9 } });
      const breaker = r.get('anything');
      expect(breaker.options.circuit.policy).toEqual({ kind: 'consecutive', failureThreshold: 9 });
      expect(r.get('anything')).toBe(breaker);
    });

    it('rejects a name that is not a non-empty string', () => {
      expect(() => registry().get('')).toThrow('A circuit breaker name must be a non-empty string');
    });
  });

  describe('layers of options', () => {
    it('merges defaults, the configuration chain, the breaker’s own options and the method’s', () => {
      const r = registry({
        defaults: { openDuration: 1_000, timeout: 10, halfOpenMaxCalls: 2 },
        configs: {
          base: { openDuration: 2_000, probeExpiry: 7_000 },
          strict: { extends: 'base', failureThreshold: 2, timeout: 20 },
        },
        breakers: { payments: { extends: 'strict', timeout: 30 } },
      });
      r.declareMethod('payments', { halfOpenWaitTimeout: 5 }, '@CircuitBreaker on A.b');
      r.initialise();
      const { options } = r.get('payments');
      expect(options.circuit).toMatchObject({
        openDuration: 2_000,
        probeExpiry: 7_000,
        halfOpenMaxCalls: 2,
        policy: { kind: 'consecutive', failureThreshold: 2 },
      });
      expect(options.timeout).toBe(30);
      expect(options.halfOpenWaitTimeout).toBe(5);
    });

    it('drops the defaults’ policy-specific options when a breaker switches policy', () => {
      const r = registry({
        defaults: { failureThreshold: 3 },
        breakers: { rate: { policy: 'count-window', windowSize: 20, minimumCalls: 5 } },
      });
      expect(r.get('rate').options.circuit.policy).toEqual({
        kind: 'count-window',
        windowSize: 20,
        minimumCalls: 5,
        failureRateThreshold: 0.5,
      });
    });

    it('getOrCreate validates its options and names itself in the error', () => {
      const r = registry({ configs: { strict: { failureThreshold: 1 } } });
      expect(r.getOrCreate('x', { extends: 'strict' }).options.circuit.policy).toMatchObject({
        failureThreshold: 1,
      });
      expect(() => r.getOrCreate('y', { timeout: -1 })).toThrow(
        'Circuit breaker "y": option "timeout" must be a finite number of milliseconds > 0 and <= 2147483647, received -1 (number) (in CircuitBreakerRegistry.getOrCreate())',
      );
      expect(r.has('y')).toBe(false);
    });

    it('rejects module-level mistakes with the option path', () => {
      const cases: Array<[unknown, string]> = [
        [[], 'option "options" must be an object, received an array of length 0'],
        [{ autoCreate: 'yes' }, 'option "autoCreate" must be a boolean'],
        [{ defaults: { extends: 'x' } }, 'option "defaults.extends" must be unset here'],
        [{ configs: { a: { health: 1 } } }, 'option "configs.a.health" must be a boolean'],
        [{ breakers: 3 }, 'option "breakers" must be an object whose keys are names'],
      ];
      for (const [options, message] of cases) {
        expect(() => new CircuitBreakerRegistry(options as CircuitBreakerModuleOptions)).toThrow(
          message,
        );
      }
      expect(() => new CircuitBreakerRegistry({ autoCreate: 1 } as never)).toThrow(
        CircuitBreakerModuleOptionsError,
      );
      expect(() => registry({ breakers: { p: { name: 'p' } as never } })).toThrow(
        'Circuit breaker "p": option "name" must be unset: a breaker is named by the key it is declared under',
      );
    });
  });

  describe('Nest classification of errors', () => {
    it('ignores 4xx HttpExceptions by default and counts 5xx ones', async () => {
      const r = registry({ breakers: { api: {} } });
      await fail(r, 'api', new NotFoundException());
      await fail(r, 'api', new HttpException('bad gateway', 502));
      expect(r.get('api').stats()).toMatchObject({ ignored: 1, failures: 1 });
    });

    it('combines the rule with the breaker’s own ignore', async () => {
      class Expected extends Error {}
      const r = registry({ breakers: { api: { ignore: [Expected] } } });
      await fail(r, 'api', new Expected());
      await fail(r, 'api', new NotFoundException());
      await fail(r, 'api', new Error('x'));
      expect(r.get('api').stats()).toMatchObject({ ignored: 2, failures: 1 });
    });

    it('counts 4xx errors as failures with ignoreHttpClientErrors: false', async () => {
      const r = registry({ breakers: { api: { ignoreHttpClientErrors: false } } });
      await fail(r, 'api', new NotFoundException());
      expect(r.get('api').stats()).toMatchObject({ ignored: 0, failures: 1 });
    });
  });

  describe('declarations', () => {
    const forFeature = 'CircuitBreakerModule.forFeature(["payments"])';

    it('accepts the same declaration twice (two modules importing one feature), in any key order', () => {
      const r = registry({ breakers: { payments: { timeout: 1_000, openDuration: 5_000 } } });
      r.declareFeature([{ name: 'payments', openDuration: 5_000, timeout: 1_000 }], forFeature);
      r.declareFeature([{ name: 'payments', timeout: 1_000, openDuration: 5_000 }], forFeature);
      r.initialise();
      expect(r.get('payments').options).toMatchObject({ timeout: 1_000 });
    });

    it('rejects different options, naming the breaker, the option, both values and both declarations', () => {
      const r = registry();
      r.declareFeature([{ name: 'payments', timeout: 1_000 }], 'first');
      expect(() =>
        r.declareFeature([{ name: 'payments', timeout: 2_000, openDuration: 5_000 }], 'second'),
      ).toThrow(
        'Circuit breaker "payments": option "timeout" must be the same in every declaration of the breaker, received 1000 (number) in first and 2000 (number) in second (they also differ on openDuration). Declare its options in one place and list it by name elsewhere, or share them with extends',
      );
    });

    it('an option set in one declaration only is a difference too', () => {
      const r = registry({ breakers: { payments: {} } });
      expect(() =>
        r.declareFeature([{ name: 'payments', halfOpenMaxCalls: 2 }], forFeature),
      ).toThrow(
        `option "halfOpenMaxCalls" must be the same in every declaration of the breaker, received unset in CircuitBreakerModule.forRoot({ breakers }) and 2 (number) in ${forFeature}`,
      );
    });
  });

  describe('introspection', () => {
    it('lists names and snapshots every breaker, sorted', async () => {
      const r = registry({ breakers: { b: {}, a: {} } });
      r.initialise();
      await fail(r, 'b', new Error('x'));
      expect(r.names()).toEqual(['a', 'b']);
      expect(r.has('a')).toBe(true);
      expect(r.has('c')).toBe(false);
      const snapshot = r.snapshot();
      expect(Object.keys(snapshot)).toEqual(['a', 'b']);
      expect((snapshot.b as BreakerStats).failures).toBe(1);
    });

    it('reports which breakers the health indicator checks by default', () => {
      const r = registry({ breakers: { core: {}, optional: { health: false } } });
      r.initialise();
      expect(r.isHealthChecked('core')).toBe(true);
      expect(r.isHealthChecked('optional')).toBe(false);
      expect(r.isHealthChecked('unknown')).toBeUndefined();
    });
  });

  describe('events$', () => {
    it('streams every breaker’s events, including breakers created later', async () => {
      const r = registry({ breakers: { a: { failureThreshold: 1 } }, autoCreate: true });
      r.initialise();
      const events: CircuitBreakerEvent[] = [];
      const subscription = r.events$.subscribe((e) => events.push(e));
      await fail(r, 'a', new Error('x'));
      await r.get('later').execute(async () => 1);
      subscription.unsubscribe();
      await fail(r, 'a', new Error('y'));
      expect(events.map((e) => `${e.breaker}:${e.type}`)).toEqual([
        'a:failure',
        'a:stateChange',
        'later:success',
      ]);
      const change = events[1]!;
      expect(change.type === 'stateChange' && [change.event.from, change.event.to]).toEqual([
        'CLOSED',
        'OPEN',
      ]);
    });

    it('a subscriber that throws, directly or at the end of a pipe, is reported to the breaker’s onCallbackError and stays subscribed (bug fix: rxjs rethrew it on a timer, ending the process)', async () => {
      const reported: Array<[string, string, string]> = [];
      const r = registry({
        defaults: {
          clock: new ManualClock(),
          onCallbackError: (error, source, breaker) =>
            reported.push([(error as Error).message, source, breaker]),
        },
        breakers: { payments: {} },
      });
      r.initialise();
      const seen: string[] = [];
      let throwing = 0;
      r.events$.subscribe(() => {
        throwing++;
        throw new Error('direct');
      });
      r.events$
        .pipe(
          filter((e) => e.type === 'failure'),
          map((e) => e.breaker),
        )
        .subscribe(() => {
          throw new Error('piped');
        });
      r.events$.subscribe((e) => seen.push(e.type));

      expect(await r.get('payments').execute(async () => 'answered')).toBe('answered');
      await fail(r, 'payments', new Error('down'));
      await flush();
      expect(seen).toEqual(['success', 'failure']);
      expect(throwing).toBe(2);
      expect(reported).toEqual([
        ['direct', 'listener', 'payments'],
        ['direct', 'listener', 'payments'],
        ['piped', 'listener', 'payments'],
      ]);
      expect(r.get('payments').stats()).toMatchObject({ calls: 2, successes: 1, failures: 1 });
    });

    it('a subscriber whose complete handler throws at shutdown is reported to defaults.onCallbackError', async () => {
      const reported: unknown[][] = [];
      const r = registry({
        defaults: { onCallbackError: (...args) => reported.push(args) },
      });
      r.initialise();
      const boom = new Error('complete threw');
      r.events$.subscribe({
        complete: () => {
          throw boom;
        },
      });
      r.onApplicationShutdown();
      await flush();
      expect(reported).toEqual([[boom, 'listener', 'events$']]);
    });

    it('completes on shutdown, and at once for late subscribers', () => {
      const r = registry();
      const done: string[] = [];
      r.events$.subscribe({ complete: () => done.push('early') });
      r.onApplicationShutdown();
      r.events$.subscribe({ complete: () => done.push('late') });
      expect(done).toEqual(['early', 'late']);
    });
  });

  describe('shutdown', () => {
    it('disposes every breaker once; later lookups of new names fail clearly', () => {
      const r = registry({ breakers: { a: {} } });
      r.initialise();
      const a = r.get('a');
      r.onApplicationShutdown();
      r.onApplicationShutdown();
      expect(a.isDisposed).toBe(true);
      expect(r.isShutDown).toBe(true);
      expect(r.get('a')).toBe(a);
      expect(() => r.getOrCreate('b')).toThrow('the application has shut down');
    });
  });
});
