/**
 * The contract every CircuitStore must pass. A store under test provides a fresh store per test,
 * a clock for its breakers, and a way to move time on; observations that cross breakers wait on
 * conditions with a deadline, so a store that propagates state asynchronously (Redis) runs the
 * same suite as the in-memory one.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  Breaker,
  type BreakerOptions,
  type CircuitStore,
  type Clock,
  isCircuitOpenError,
} from '../../lib/core/index.js';
import { Boom, deferred, flush, outcome } from './helpers/async.js';
import { eventually } from './helpers/eventually.js';

export interface StoreUnderTest {
  readonly store: CircuitStore;
  readonly clock: Clock;
  /** Moves the breakers' notion of time forward by `ms`. */
  advance(ms: number): Promise<void>;
  /** The open period the suite uses. @default 1_000 */
  readonly openDuration?: number;
  /** Releases whatever the store holds (connections, servers). */
  close?(): Promise<void>;
}

export function describeStoreContract(label: string, create: () => Promise<StoreUnderTest>): void {
  describe(`CircuitStore contract: ${label}`, () => {
    let env: StoreUnderTest;
    const breakers: Breaker[] = [];
    let counter = 0;

    async function setup(): Promise<StoreUnderTest> {
      env = await create();
      return env;
    }

    function breaker(name: string, options: Partial<BreakerOptions> = {}): Breaker {
      const b = new Breaker({
        name,
        store: env.store,
        clock: env.clock,
        failureThreshold: 5,
        openDuration: env.openDuration ?? 1_000,
        ...options,
      });
      breakers.push(b);
      return b;
    }

    function uniqueName(): string {
      return `contract-${process.pid}-${Date.now()}-${counter++}`;
    }

    async function failOn(b: Breaker, n: number): Promise<void> {
      for (let i = 0; i < n; i++) await outcome(b.execute(() => Promise.reject(new Boom())));
    }

    afterEach(async () => {
      for (const b of breakers.splice(0)) b.dispose();
      await env?.close?.();
    });

    it('a single breaker on the store trips, rejects, probes and recovers', async () => {
      await setup();
      const b = breaker(uniqueName());
      await failOn(b, 5);
      await eventually(() => expect(b.state).toBe('OPEN'));
      const rejected = await outcome(b.execute(async () => 1));
      expect(!rejected.ok && isCircuitOpenError(rejected.error)).toBe(true);
      await env.advance(env.openDuration ?? 1_000);
      await eventually(() => expect(b.state).toBe('HALF_OPEN'));
      expect(await b.execute(async () => 'probe')).toBe('probe');
      await eventually(() => expect(b.state).toBe('CLOSED'));
    });

    it("failures on two breakers of one name add up to the circuit's threshold", async () => {
      await setup();
      const name = uniqueName();
      const a = breaker(name);
      const b = breaker(name);
      await failOn(a, 3);
      await failOn(b, 2);
      await eventually(() => {
        expect(a.state).toBe('OPEN');
        expect(b.state).toBe('OPEN');
      });
    });

    it('a breaker rejects without calling its dependency once the other tripped the circuit', async () => {
      await setup();
      const name = uniqueName();
      const a = breaker(name);
      const b = breaker(name);
      await failOn(a, 5);
      await eventually(() => expect(b.state).toBe('OPEN'));
      let called = false;
      const r = await outcome(
        b.execute(async () => {
          called = true;
        }),
      );
      expect(called).toBe(false);
      expect(!r.ok && isCircuitOpenError(r.error)).toBe(true);
    });

    it.each([1, 2])(
      'after the open period exactly halfOpenMaxCalls = %i probes go, across both breakers',
      async (probes) => {
        await setup();
        const name = uniqueName();
        const a = breaker(name, { halfOpenMaxCalls: probes });
        const b = breaker(name, { halfOpenMaxCalls: probes });
        await failOn(a, 5);
        await eventually(() => expect(b.state).toBe('OPEN'));
        await env.advance(env.openDuration ?? 1_000);
        let reached = 0;
        const gate = deferred<void>();
        const call = (x: Breaker) =>
          outcome(
            x.execute(async () => {
              reached++;
              await gate.promise;
            }),
          );
        const results = [
          ...Array.from({ length: 200 }, () => call(a)),
          ...Array.from({ length: 200 }, () => call(b)),
        ];
        await flush();
        await eventually(() => expect(reached).toBe(probes));
        gate.resolve();
        await Promise.all(results);
        expect(reached).toBe(probes);
        await eventually(() => {
          expect(a.state).toBe('CLOSED');
          expect(b.state).toBe('CLOSED');
        });
      },
    );

    it("a call admitted on one breaker before the trip cannot re-open the other's recovered circuit", async () => {
      await setup();
      const name = uniqueName();
      const a = breaker(name);
      const b = breaker(name);
      const late = Array.from({ length: 10 }, () => deferred<number>());
      const lateResults = late.map((d) => outcome(b.execute(() => d.promise)));
      await failOn(a, 5);
      await eventually(() => expect(b.state).toBe('OPEN'));
      await env.advance(env.openDuration ?? 1_000);
      await eventually(() => expect(a.state).toBe('HALF_OPEN'));
      await a.execute(async () => 'probe');
      await eventually(() => expect(b.state).toBe('CLOSED'));
      for (const d of late) d.reject(new Boom('late'));
      await Promise.all(lateResults);
      await flush();
      expect(a.state).toBe('CLOSED');
      expect(b.state).toBe('CLOSED');
    });

    it('manual transitions reach every breaker of the circuit', async () => {
      await setup();
      const name = uniqueName();
      const a = breaker(name);
      const b = breaker(name);
      a.isolate();
      await eventually(() => expect(b.state).toBe('FORCED_OPEN'));
      b.reset();
      await eventually(() => expect(a.state).toBe('CLOSED'));
      b.disable();
      await eventually(() => expect(a.state).toBe('DISABLED'));
    });

    it('breakers of different names are independent', async () => {
      await setup();
      const a = breaker(uniqueName());
      const b = breaker(uniqueName());
      await failOn(a, 5);
      await eventually(() => expect(a.state).toBe('OPEN'));
      expect(b.state).toBe('CLOSED');
      expect(await b.execute(async () => 'fine')).toBe('fine');
    });

    it('every breaker hears the transitions, wherever they were decided', async () => {
      await setup();
      const name = uniqueName();
      const a = breaker(name);
      const b = breaker(name);
      const heard: string[] = [];
      b.onStateChange((e) => heard.push(e.to));
      await failOn(a, 5);
      await eventually(() => expect(heard).toEqual(['OPEN']));
    });

    it('disposing one breaker leaves the other working on the shared circuit', async () => {
      await setup();
      const name = uniqueName();
      const a = breaker(name);
      const b = breaker(name);
      a.dispose();
      await failOn(b, 5);
      await eventually(() => expect(b.state).toBe('OPEN'));
    });
  });
}
