/**
 * The contract every CircuitStore must pass. A store under test provides a fresh store per test,
 * a clock for its breakers, and a way to move time on; observations that cross breakers wait on
 * conditions with a deadline, so a store that propagates state asynchronously (Redis) runs the
 * same suite as the in-memory one.
 *
 * A shared store may degrade (Redis away, or slower than its commandTimeout): its breakers then
 * decide on their own circuits, as documented, and report it (`storeStatus`). The suite listens:
 * where the contract's promise has a documented degraded form (the fleet-wide probe limit) it
 * checks that form when the store degraded; elsewhere a failure says that the store degraded
 * during the test, rather than reporting a broken promise of a shared store.
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
    /** Every `degraded` storeStatus event of this test's breakers (one per breaker per outage). */
    const degradations: string[] = [];

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
      b.onStoreStatus((e) => {
        if (e.status === 'degraded') degradations.push(`${e.breaker}: ${String(e.error)}`);
      });
      return b;
    }

    /**
     * A test body whose failure, if the store degraded meanwhile, says so: its observations are
     * then those of breakers deciding alone, not of a shared store.
     */
    function knowing<A extends unknown[]>(body: (...args: A) => Promise<void>) {
      return async (...args: A): Promise<void> => {
        try {
          await body(...args);
        } catch (error) {
          if (degradations.length === 0) throw error;
          throw new Error(
            `the store degraded during this test (${degradations.join('; ')}), so its breakers ` +
              `decided alone: ${error instanceof Error ? error.message : String(error)}`,
            { cause: error },
          );
        }
      };
    }

    function degradationsOf(name: string): number {
      return degradations.filter((d) => d.startsWith(`${name}: `)).length;
    }

    /**
     * Two breakers of one name, and their circuit tripped by the first: both see it OPEN. If the
     * store degraded meanwhile, its breakers decided alone and the second may never see it open (as
     * documented): then this starts again on a fresh circuit once the store is back, at most thrice.
     */
    async function openCircuit(
      options: Partial<BreakerOptions>,
    ): Promise<[a: Breaker, b: Breaker, name: string]> {
      for (let attempt = 1; ; attempt++) {
        const name = uniqueName();
        const a = breaker(name, options);
        const b = breaker(name, options);
        await eventually(() => {
          for (const x of [a, b]) expect(x.stats().store).not.toBe('degraded');
        }, 15_000);
        try {
          await failOn(a, 5);
          await eventually(() => expect(b.state).toBe('OPEN'));
          return [a, b, name];
        } catch (error) {
          if (degradationsOf(name) === 0 || attempt === 3) throw error;
          a.dispose();
          b.dispose();
        }
      }
    }

    function uniqueName(): string {
      return `contract-${process.pid}-${Date.now()}-${counter++}`;
    }

    async function failOn(b: Breaker, n: number): Promise<void> {
      for (let i = 0; i < n; i++) await outcome(b.execute(() => Promise.reject(new Boom())));
    }

    afterEach(async () => {
      for (const b of breakers.splice(0)) b.dispose();
      degradations.length = 0;
      await env?.close?.();
    });

    it(
      'a single breaker on the store trips, rejects, probes and recovers',
      knowing(async () => {
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
      }),
    );

    it(
      "failures on two breakers of one name add up to the circuit's threshold",
      knowing(async () => {
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
      }),
    );

    // README, "Choosing how a circuit trips": a window "opens when the failure rate over the last
    // windowSize calls reaches failureRateThreshold, once minimumCalls calls are in the window"; the
    // rate is evaluated after every call, so the success that completes minimumCalls can open it.
    it.each(['count-window', 'time-window'] as const)(
      '%s: F,F (one breaker), F,S (the other) with minimumCalls 4 and threshold 0.5 opens the circuit on the success',
      knowing(async (policy: 'count-window' | 'time-window') => {
        await setup();
        const name = uniqueName();
        const options = {
          policy,
          failureThreshold: undefined,
          minimumCalls: 4,
          failureRateThreshold: 0.5,
        };
        const a = breaker(name, options);
        const b = breaker(name, options);
        await failOn(a, 2);
        await failOn(b, 1);
        // Time for a shared store to record the three failures first (pacing, not a deadline:
        // the success is then the call that completes minimumCalls); below it, still closed.
        await env.advance(100);
        expect([a.state, b.state]).toEqual(['CLOSED', 'CLOSED']);
        await outcome(b.execute(async () => 'ok'));
        await eventually(() => {
          expect(a.state).toBe('OPEN');
          expect(b.state).toBe('OPEN');
        });
      }),
    );

    it(
      'a breaker rejects without calling its dependency once the other tripped the circuit',
      knowing(async () => {
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
      }),
    );

    it.each([1, 2])(
      'after the open period exactly halfOpenMaxCalls = %i probes go, across both breakers',
      knowing(async (probes: number) => {
        await setup();
        const [a, b, name] = await openCircuit({ halfOpenMaxCalls: probes });
        await env.advance(env.openDuration ?? 1_000);
        let reached = 0;
        let refused = 0;
        const gate = deferred<void>();
        const call = (x: Breaker) =>
          outcome(
            x.execute(async () => {
              reached++;
              await gate.promise;
            }),
          ).then((r) => {
            if (!r.ok) refused++;
            return r;
          });
        const CALLS = 400;
        const results = [
          ...Array.from({ length: CALLS / 2 }, () => call(a)),
          ...Array.from({ length: CALLS / 2 }, () => call(b)),
        ];
        await flush();
        // Every call is either running (a probe, held at the gate) or refused: none can still be
        // admitted. Then the probes end.
        await eventually(() => expect(refused + reached).toBe(CALLS));
        gate.resolve();
        await Promise.all(results);
        const degraded = degradationsOf(name);
        if (degraded === 0) {
          // Shared throughout: the circuit's limit holds across both breakers.
          expect(reached).toBe(probes);
          await eventually(() => {
            expect(a.state).toBe('CLOSED');
            expect(b.state).toBe('CLOSED');
          });
        } else {
          // The store degraded (Redis slower than commandTimeout): each breaker that lost it
          // admits its own halfOpenMaxCalls on its own circuit, besides the circuit's own probes
          // (README, "Many instances"). Its own circuit closes on its own probe: calls drive it.
          expect(reached).toBeLessThanOrEqual(probes * (1 + degraded));
          await eventually(async () => {
            for (const x of [a, b]) {
              if (x.state !== 'CLOSED') await outcome(x.execute(async () => 'ok'));
            }
            expect(a.state).toBe('CLOSED');
            expect(b.state).toBe('CLOSED');
          }, 10_000);
        }
      }),
    );

    it(
      "a call admitted on one breaker before the trip cannot re-open the other's recovered circuit",
      knowing(async () => {
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
      }),
    );

    it(
      'manual transitions reach every breaker of the circuit',
      knowing(async () => {
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
      }),
    );

    it(
      'breakers of different names are independent',
      knowing(async () => {
        await setup();
        const a = breaker(uniqueName());
        const b = breaker(uniqueName());
        await failOn(a, 5);
        await eventually(() => expect(a.state).toBe('OPEN'));
        expect(b.state).toBe('CLOSED');
        expect(await b.execute(async () => 'fine')).toBe('fine');
      }),
    );

    it(
      'every breaker hears the transitions, wherever they were decided',
      knowing(async () => {
        await setup();
        const name = uniqueName();
        const a = breaker(name);
        const b = breaker(name);
        const heard: string[] = [];
        b.onStateChange((e) => heard.push(e.to));
        await failOn(a, 5);
        await eventually(() => expect(heard).toEqual(['OPEN']));
      }),
    );

    it(
      'disposing one breaker leaves the other working on the shared circuit',
      knowing(async () => {
        await setup();
        const name = uniqueName();
        const a = breaker(name);
        const b = breaker(name);
        a.dispose();
        await failOn(b, 5);
        await eventually(() => expect(b.state).toBe('OPEN'));
      }),
    );
  });
}
