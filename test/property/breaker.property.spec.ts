/**
 * Model-based property tests: random sequences of calls, settlements, clock steps, reads, manual
 * transitions and disposal drive the real Breaker and the reference model (./breaker-model.ts)
 * together; after every step their states, counters, transitions and what each caller received
 * must be identical.
 *
 * `npm test` runs a quick version; `npm run test:property` runs PROPERTY_RUNS (10,000) per property.
 * A failure prints fast-check's seed and the shrunk command sequence: replay it with
 * `PROPERTY_SEED=<seed> PROPERTY_PATH=<path>`.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  Breaker,
  type BreakerOptions,
  type BreakerStats,
  ManualClock,
  isBreakerDisposedError,
  isBulkheadRejectedError,
  isCallTimeoutError,
  isCircuitOpenError,
} from '../../lib/core/index.js';
import { Boom, Ignorable, deferred, flush, type Deferred } from '../core/helpers/async.js';
import {
  BreakerModel,
  type CallResult,
  type ModelCall,
  type ModelConfig,
  type PolicyKind,
  type Settlement,
} from './breaker-model.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 150);
const SEED =
  process.env.PROPERTY_SEED === undefined ? undefined : Number(process.env.PROPERTY_SEED);
const PATH = process.env.PROPERTY_PATH;

interface RealCall {
  d: Deferred<number> | undefined;
  result: CallResult | undefined;
}

interface Real {
  readonly breaker: Breaker;
  readonly clock: ManualClock;
  readonly calls: RealCall[];
  readonly transitions: string[];
}

interface Model {
  readonly m: BreakerModel;
}

function classify(error: unknown): CallResult {
  if (isCircuitOpenError(error)) return `rejected:${error.state}`;
  if (isBulkheadRejectedError(error)) return 'rejected:bulkhead';
  if (isCallTimeoutError(error)) return 'timeout';
  if (isBreakerDisposedError(error)) return 'disposed';
  if (error instanceof Ignorable) return 'ignored';
  if (error instanceof Boom) return 'failure';
  throw new Error(`unexpected error reached the caller: ${String(error)}`);
}

function toOptions(c: ModelConfig, clock: ManualClock): BreakerOptions {
  const options: Record<string, unknown> = {
    name: 'model',
    clock,
    policy: c.policy,
    openDuration: c.openDuration,
    halfOpenMaxCalls: c.halfOpenMaxCalls,
    probeExpiry: c.probeExpiry,
    ignore: [Ignorable],
    random: () => c.randomDraw,
    onCallbackError: (error: unknown) => {
      throw error;
    },
  };
  if (c.backoff) options.backoff = c.backoff;
  if (c.timeout > 0) options.timeout = c.timeout;
  if (c.maxConcurrent > 0) {
    options.maxConcurrent = c.maxConcurrent;
    options.maxQueue = c.maxQueue;
  }
  switch (c.policy) {
    case 'consecutive':
      options.failureThreshold = c.failureThreshold;
      break;
    case 'count-window':
      Object.assign(options, {
        windowSize: c.windowSize,
        minimumCalls: c.minimumCalls,
        failureRateThreshold: c.failureRateThreshold,
      });
      break;
    case 'time-window':
      Object.assign(options, {
        windowDuration: c.windowDuration,
        windowBuckets: c.windowBuckets,
        minimumCalls: c.minimumCalls,
        failureRateThreshold: c.failureRateThreshold,
      });
      break;
    case 'slow-call':
      Object.assign(options, {
        windowSize: c.windowSize,
        minimumCalls: c.minimumCalls,
        failureRateThreshold: c.failureRateThreshold,
        slowCallDuration: c.slowCallDuration,
        slowCallRateThreshold: c.slowCallRateThreshold,
      });
      break;
  }
  return options as unknown as BreakerOptions;
}

function snapshotReal(real: Real) {
  const s: BreakerStats = real.breaker.stats();
  return {
    transitions: real.transitions,
    state: s.state,
    generation: s.generation,
    calls: s.calls,
    successes: s.successes,
    failures: s.failures,
    timeouts: s.timeouts,
    ignored: s.ignored,
    rejectionsByReason: s.rejectionsByReason,
    slowCalls: s.slowCalls,
    inFlight: s.inFlight,
    queued: s.queued,
    failedProbes: s.failedProbes,
    consecutiveFailures: s.consecutiveFailures,
    windowCalls: s.windowCalls,
    opens: s.opens,
    addsUp: s.calls === s.successes + s.failures + s.timeouts + s.ignored + s.rejections,
    results: real.calls.map((c) => c.result),
  };
}

function snapshotModel(m: BreakerModel) {
  const state = m.readState();
  return {
    transitions: m.transitions,
    state,
    generation: m.generation,
    calls: m.counters.calls,
    successes: m.counters.successes,
    failures: m.counters.failures,
    timeouts: m.counters.timeouts,
    ignored: m.counters.ignored,
    rejectionsByReason: {
      open: m.counters.open,
      halfOpen: m.counters.halfOpen,
      forcedOpen: m.counters.forcedOpen,
      bulkhead: m.counters.bulkhead,
    },
    slowCalls: m.counters.slowCalls,
    inFlight: m.calls.filter((c) => c.phase === 'running').length,
    queued: m.queue.length,
    failedProbes: m.failedProbes,
    consecutiveFailures: m.consecutiveFailures,
    windowCalls: m.window().length,
    opens: m.counters.opens,
    addsUp: true,
    results: m.calls.map((c) => c.result),
  };
}

/** Real and model must agree on everything observable. Jest's diff only runs on a mismatch. */
function compare(model: BreakerModel, real: Real): void {
  const expected = snapshotModel(model);
  const actual = snapshotReal(real);
  if (JSON.stringify(actual) !== JSON.stringify(expected)) expect(actual).toEqual(expected);
}

class StartCall implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    model.m.start();
    const call: RealCall = { d: undefined, result: undefined };
    real.calls.push(call);
    real.breaker
      .execute(() => {
        call.d = deferred<number>();
        return call.d.promise;
      })
      .then(
        () => (call.result = 'ok'),
        (error: unknown) => (call.result = classify(error)),
      );
    await flush(1);
    compare(model.m, real);
  }
  toString = () => 'start';
}

/** Calls whose function was invoked and whose promise the test has not settled yet. */
function settleable(m: BreakerModel): ModelCall[] {
  return m.calls.filter(
    (c) => !c.settled && (c.phase === 'running' || (c.result === 'timeout' && c.generation >= 0)),
  );
}

class Settle implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly pick: number,
    readonly how: Settlement,
  ) {}
  check = (model: Readonly<Model>) => settleable(model.m).length > 0;
  async run(model: Model, real: Real): Promise<void> {
    const candidates = settleable(model.m);
    const target = candidates[this.pick % candidates.length]!;
    const d = real.calls[target.id]!.d!;
    model.m.settle(target, this.how);
    if (this.how === 'success') d.resolve(1);
    else d.reject(this.how === 'failure' ? new Boom() : new Ignorable());
    await flush(1);
    compare(model.m, real);
  }
  toString = () => `settle(${this.pick}, ${this.how})`;
}

class Advance implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    model.m.advance(this.ms);
    real.clock.advance(this.ms);
    await flush(1);
    compare(model.m, real);
  }
  toString = () => `advance(${this.ms})`;
}

class ReadState implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    expect(real.breaker.state).toBe(model.m.readState());
  }
  toString = () => 'readState';
}

class Manual implements fc.AsyncCommand<Model, Real> {
  constructor(readonly action: 'isolate' | 'disable' | 'reset') {}
  check = (model: Readonly<Model>) => !model.m.disposed;
  async run(model: Model, real: Real): Promise<void> {
    model.m[this.action]();
    real.breaker[this.action]();
    await flush(1);
    compare(model.m, real);
  }
  toString = () => this.action;
}

class Dispose implements fc.AsyncCommand<Model, Real> {
  check = (model: Readonly<Model>) => !model.m.disposed;
  async run(model: Model, real: Real): Promise<void> {
    model.m.dispose();
    real.breaker.dispose();
    await flush(1);
    compare(model.m, real);
  }
  toString = () => 'dispose';
}

/**
 * The command mix, weighted so that runs reach the interesting places (open, half-open with probes
 * in flight, expiring probes, queues) often, and disposal, which ends the interesting part, rarely.
 */
const commands = fc.oneof(
  { weight: 30, arbitrary: fc.constant(new StartCall()) },
  {
    weight: 30,
    arbitrary: fc
      .tuple(fc.nat(), fc.constantFrom<Settlement>('success', 'failure', 'failure', 'ignored'))
      .map(([pick, how]) => new Settle(pick, how)),
  },
  {
    weight: 20,
    arbitrary: fc.constantFrom(1, 5, 10, 25, 100, 250, 1_000).map((ms) => new Advance(ms)),
  },
  { weight: 5, arbitrary: fc.constant(new ReadState()) },
  {
    weight: 3,
    arbitrary: fc
      .constantFrom<'isolate' | 'disable' | 'reset'>('reset', 'reset', 'isolate', 'disable')
      .map((a) => new Manual(a)),
  },
  { weight: 1, arbitrary: fc.constant(new Dispose()) },
) as fc.Arbitrary<fc.AsyncCommand<Model, Real>>;

function configArb(policy: PolicyKind): fc.Arbitrary<ModelConfig> {
  return fc
    .record({
      policy: fc.constant(policy),
      failureThreshold: fc.integer({ min: 1, max: 4 }),
      windowSize: fc.integer({ min: 1, max: 8 }),
      minimumCalls: fc.integer({ min: 1, max: 8 }),
      failureRateThreshold: fc.constantFrom(0.2, 0.28, 0.5, 0.75, 1),
      windowDuration: fc.constantFrom(100, 1_000, 3_000),
      windowBuckets: fc.integer({ min: 1, max: 10 }),
      slowCallDuration: fc.constantFrom(5, 50, 500),
      slowCallRateThreshold: fc.constantFrom(0.3, 0.5, 1),
      openDuration: fc.constantFrom(10, 100, 1_000),
      backoff: fc.option(
        fc.record({
          multiplier: fc.constantFrom(1, 1.5, 2),
          maxDuration: fc.constantFrom(2_000, 5_000),
          jitter: fc.constantFrom(0, 0.2),
        }),
        { nil: undefined },
      ),
      randomDraw: fc.constantFrom(0, 0.25, 0.75),
      halfOpenMaxCalls: fc.integer({ min: 1, max: 5 }),
      probeExpiry: fc.constantFrom(25, 100, 1_000),
      timeout: fc.constantFrom(0, 0, 0, 20, 200),
      maxConcurrent: fc.constantFrom(0, 0, 1, 2, 4),
      maxQueue: fc.integer({ min: 0, max: 3 }),
    })
    .map((c) => ({
      ...c,
      minimumCalls:
        policy === 'time-window' ? c.minimumCalls : Math.min(c.minimumCalls, c.windowSize),
    }));
}

describe('Breaker vs. reference model', () => {
  it.each<PolicyKind>(['consecutive', 'count-window', 'time-window', 'slow-call'])(
    '%s policy: every sequence of calls, settlements, clock steps and manual actions matches the model',
    async (policy) => {
      await fc.assert(
        fc.asyncProperty(
          configArb(policy),
          fc.commands([commands], { maxCommands: 80, size: '+1' }),
          async (config, cmds) => {
            const clock = new ManualClock();
            const breaker = new Breaker(toOptions(config, clock));
            const transitions: string[] = [];
            breaker.onStateChange((e) => transitions.push(`${e.from}>${e.to}:${e.reason}`));
            const real: Real = { breaker, clock, calls: [], transitions };
            await fc.asyncModelRun(() => ({ model: { m: new BreakerModel(config) }, real }), cmds);
            // Let every timer run out so nothing outlives the run.
            clock.advance(1e7);
            breaker.dispose();
          },
        ),
        { numRuns: RUNS, seed: SEED, path: PATH, endOnFailure: true },
      );
    },
    600_000,
  );
});

describe('any settlement order (fc.scheduler)', () => {
  it('keeps one transition per generation, at most halfOpenMaxCalls probes, and counters that add up', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.constantFrom('ok', 'fail', 'ignore'), { minLength: 5, maxLength: 40 }),
        async (s, probes, fates) => {
          const clock = new ManualClock();
          const b = new Breaker({
            name: 'sched',
            clock,
            failureThreshold: 3,
            openDuration: 10,
            halfOpenMaxCalls: probes,
            ignore: [Ignorable],
          });
          const transitions: Array<{ to: string; generation: number }> = [];
          b.onStateChange((e) => transitions.push(e));
          // Per HALF_OPEN generation: probes that gave a verdict (an ignored probe frees its slot,
          // so only these are bounded in total), and probes in flight at once.
          const verdicts = new Map<number, number>();
          const inFlight = new Map<number, number>();
          let peakInFlight = 0;
          const results = fates.map(async (fate, i) => {
            // Half the calls start only after the scheduler lets time pass.
            if (i % 2 === 1) await s.schedule(Promise.resolve()).then(() => clock.advance(5));
            const before = b.stats();
            return b
              .execute(async () => {
                const g = before.generation;
                const probe = before.state === 'HALF_OPEN';
                if (probe) {
                  if (fate !== 'ignore') verdicts.set(g, (verdicts.get(g) ?? 0) + 1);
                  inFlight.set(g, (inFlight.get(g) ?? 0) + 1);
                  peakInFlight = Math.max(peakInFlight, inFlight.get(g)!);
                }
                try {
                  await s.schedule(Promise.resolve(fate));
                  if (fate === 'fail') throw new Boom();
                  if (fate === 'ignore') throw new Ignorable();
                  return i;
                } finally {
                  if (probe) inFlight.set(g, inFlight.get(g)! - 1);
                }
              })
              .catch(() => undefined);
          });
          await s.waitFor(Promise.all(results));
          const st = b.stats();
          expect(st.calls).toBe(fates.length);
          expect(st.calls).toBe(
            st.successes + st.failures + st.timeouts + st.ignored + st.rejections,
          );
          for (const n of verdicts.values()) expect(n).toBeLessThanOrEqual(probes);
          expect(peakInFlight).toBeLessThanOrEqual(probes);
          transitions.forEach((t, i) => expect(t.generation).toBe(i + 1));
        },
      ),
      { numRuns: RUNS * 2, seed: SEED, path: PATH },
    );
  });
});
