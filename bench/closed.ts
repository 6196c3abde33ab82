/**
 * Case 1: a CLOSED circuit around `async () => 1`, one call at a time and 100 in flight.
 *
 * Each library's loop is its own function literal: V8 keeps type feedback per literal, so a shared
 * loop would turn every call site megamorphic and slow all contenders alike, hiding differences.
 */
import {
  type CaseResult,
  type Contender,
  describeRatios,
  interleave,
  throughputRows,
  worstOurs,
} from './harness.js';
import {
  COCKATIEL_KINDS,
  OPOSSUM_KINDS,
  OUR_POLICIES,
  cockatiel,
  ok,
  opossum,
  opossumLabel,
  ours,
} from './subjects.js';

export const sequential: { raw: Contender; contenders: Contender[] } = {
  raw: {
    library: 'raw',
    config: 'await fn()',
    setup: () => ({
      run: async (n) => {
        for (let i = 0; i < n; i++) await ok();
      },
    }),
  },
  contenders: [
    ...OUR_POLICIES.map((policy): Contender => ({
      library: 'ours',
      config: policy,
      setup: () => {
        const breaker = ours(policy);
        return {
          run: async (n) => {
            for (let i = 0; i < n; i++) await breaker.execute(ok);
          },
          dispose: () => breaker.dispose(),
        };
      },
    })),
    ...COCKATIEL_KINDS.map((kind): Contender => ({
      library: 'cockatiel',
      config: kind,
      setup: () => {
        const policy = cockatiel(kind);
        return {
          run: async (n) => {
            for (let i = 0; i < n; i++) await policy.execute(ok);
          },
        };
      },
    })),
    ...OPOSSUM_KINDS.map((kind): Contender => ({
      library: 'opossum',
      config: opossumLabel(kind),
      setup: () => {
        const breaker = opossum(kind, ok);
        return {
          run: async (n) => {
            for (let i = 0; i < n; i++) await breaker.fire();
          },
          dispose: () => breaker.shutdown(),
        };
      },
    })),
  ],
};

const IN_FLIGHT = 100;

const concurrent: { raw: Contender; contenders: Contender[] } = {
  raw: {
    library: 'raw',
    config: 'Promise.all of 100 fn()',
    setup: () => ({
      run: async (n) => {
        const calls = new Array<Promise<number>>(IN_FLIGHT);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < IN_FLIGHT; j++) calls[j] = ok();
          await Promise.all(calls);
        }
      },
    }),
  },
  contenders: [
    ...OUR_POLICIES.map((policy): Contender => ({
      library: 'ours',
      config: policy,
      setup: () => {
        const breaker = ours(policy);
        return {
          run: async (n) => {
            const calls = new Array<Promise<number>>(IN_FLIGHT);
            for (let i = 0; i < n; i++) {
              for (let j = 0; j < IN_FLIGHT; j++) calls[j] = breaker.execute(ok);
              await Promise.all(calls);
            }
          },
          dispose: () => breaker.dispose(),
        };
      },
    })),
    ...COCKATIEL_KINDS.map((kind): Contender => ({
      library: 'cockatiel',
      config: kind,
      setup: () => {
        const policy = cockatiel(kind);
        return {
          run: async (n) => {
            const calls = new Array<Promise<number>>(IN_FLIGHT);
            for (let i = 0; i < n; i++) {
              for (let j = 0; j < IN_FLIGHT; j++) calls[j] = policy.execute(ok);
              await Promise.all(calls);
            }
          },
        };
      },
    })),
    ...OPOSSUM_KINDS.map((kind): Contender => ({
      library: 'opossum',
      config: opossumLabel(kind),
      setup: () => {
        const breaker = opossum(kind, ok);
        return {
          run: async (n) => {
            const calls = new Array<Promise<number>>(IN_FLIGHT);
            for (let i = 0; i < n; i++) {
              for (let j = 0; j < IN_FLIGHT; j++) calls[j] = breaker.fire();
              await Promise.all(calls);
            }
          },
          dispose: () => breaker.shutdown(),
        };
      },
    })),
  ],
};

export async function runClosed(scale: number): Promise<CaseResult> {
  const seq = await interleave({
    rounds: Math.max(5, Math.round(50 * scale)),
    warmup: 3,
    ops: 20_000,
    ...sequential,
  });
  const par = await interleave({
    rounds: Math.max(5, Math.round(50 * scale)),
    warmup: 3,
    ops: 200,
    callsPerOp: IN_FLIGHT,
    ...concurrent,
  });
  const seqWorst = worstOurs(seq.results);
  const parWorst = worstOurs(par.results);
  return {
    rows: [
      ...throughputRows('1a', 'CLOSED, sequential', seq.raw, seq.results),
      ...throughputRows('1b', 'CLOSED, 100 in flight', par.raw, par.results),
    ],
    checks: [
      {
        target: 'CLOSED sequential ≤ 2.0x raw',
        pass: seqWorst <= 2.0,
        detail: describeRatios(seq.results),
      },
      {
        target: 'CLOSED 100 in flight ≤ 2.5x raw',
        pass: parWorst <= 2.5,
        detail: describeRatios(par.results),
      },
    ],
  };
}
