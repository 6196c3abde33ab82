/**
 * Case 2: a failing call while the circuit stays closed (thresholds out of reach), against the raw
 * failing call `try { await failing() } catch {}`.
 *
 * Case 2b: the same, once the breaker's window already holds 100,000 calls. A failure must cost
 * the same however full the window is; opossum recomputes its statistics (concatenating and
 * sorting every latency in its window) on each failure, so it gets far fewer operations per round.
 */
import {
  type CaseResult,
  type Contender,
  describeRatios,
  formatRatio,
  interleave,
  median,
  throughputRows,
  worstOurs,
} from './harness.js';
import {
  COCKATIEL_KINDS,
  OPOSSUM_KINDS,
  OUR_POLICIES,
  cockatiel,
  failing,
  ok,
  opossum,
  opossumLabel,
  ours,
  oursNeverOpens,
} from './subjects.js';

const raw: Contender = {
  library: 'raw',
  config: 'try { await failing() } catch {}',
  setup: () => ({
    run: async (n) => {
      for (let i = 0; i < n; i++) {
        try {
          await failing();
        } catch {
          // expected
        }
      }
    },
  }),
};

const closedFailures: Contender[] = [
  ...OUR_POLICIES.map((policy): Contender => ({
    library: 'ours',
    config: policy,
    setup: () => {
      const breaker = ours(policy, oursNeverOpens(policy));
      return {
        run: async (n) => {
          for (let i = 0; i < n; i++) {
            try {
              await breaker.execute(failing);
            } catch {
              // expected
            }
          }
          if (breaker.state !== 'CLOSED') throw new Error(`ours ${policy} opened`);
        },
        dispose: () => breaker.dispose(),
      };
    },
  })),
  ...COCKATIEL_KINDS.map((kind): Contender => ({
    library: 'cockatiel',
    config: kind,
    setup: () => {
      const policy = cockatiel(kind, { neverOpens: true });
      return {
        run: async (n) => {
          for (let i = 0; i < n; i++) {
            try {
              await policy.execute(failing);
            } catch {
              // expected
            }
          }
        },
      };
    },
  })),
  ...OPOSSUM_KINDS.map((kind): Contender => ({
    library: 'opossum',
    config: opossumLabel(kind),
    // Each failure recomputes statistics over the whole rolling window (see above).
    ops: 2_000,
    setup: () => {
      const breaker = opossum(kind, failing, { neverOpens: true });
      return {
        run: async (n) => {
          for (let i = 0; i < n; i++) {
            try {
              await breaker.fire();
            } catch {
              // expected
            }
          }
        },
        dispose: () => breaker.shutdown(),
      };
    },
  })),
];

const PREFILL = 100_000;

/** Breakers whose window already holds 100,000 successful calls (filled before timing). */
const fullWindowFailures: Contender[] = [
  ...(['count-window', 'time-window'] as const).map((policy): Contender => ({
    library: 'ours',
    config: `${policy}, 100k-call window`,
    setup: async () => {
      const breaker = ours(policy, {
        ...(policy === 'count-window' ? { windowSize: PREFILL } : {}),
        minimumCalls: PREFILL,
        failureRateThreshold: 1,
      });
      for (let i = 0; i < PREFILL; i++) await breaker.execute(ok);
      return {
        run: async (n) => {
          for (let i = 0; i < n; i++) {
            try {
              await breaker.execute(failing);
            } catch {
              // expected
            }
          }
          if (breaker.state !== 'CLOSED') throw new Error(`ours ${policy} opened`);
        },
        dispose: () => breaker.dispose(),
      };
    },
  })),
  {
    library: 'cockatiel',
    config: 'SamplingBreaker, 100k calls in window',
    setup: async () => {
      const policy = cockatiel('SamplingBreaker', { threshold: 0.99 });
      for (let i = 0; i < PREFILL; i++) await policy.execute(ok);
      return {
        run: async (n) => {
          for (let i = 0; i < n; i++) {
            try {
              await policy.execute(failing);
            } catch {
              // expected
            }
          }
        },
      };
    },
  },
  ...OPOSSUM_KINDS.map((kind): Contender => ({
    library: 'opossum',
    config: `${opossumLabel(kind)}, 100k calls in window`,
    ops: kind === 'defaults' ? 5 : 200,
    setup: async () => {
      // opossum binds its action at construction: this one succeeds until the window is full.
      let fail = false;
      const breaker = opossum(kind, () => (fail ? failing() : ok()), { neverOpens: true });
      for (let i = 0; i < PREFILL; i++) await breaker.fire();
      fail = true;
      return {
        run: async (n) => {
          for (let i = 0; i < n; i++) {
            try {
              await breaker.fire();
            } catch {
              // expected
            }
          }
        },
        dispose: () => breaker.shutdown(),
      };
    },
  })),
];

export async function runFailing(scale: number): Promise<CaseResult> {
  const closed = await interleave({
    rounds: Math.max(5, Math.round(30 * scale)),
    warmup: 2,
    ops: 10_000,
    raw,
    contenders: closedFailures,
  });
  const full = await interleave({
    rounds: Math.max(3, Math.round(7 * scale)),
    warmup: 1,
    ops: 5_000,
    raw,
    contenders: fullWindowFailures,
  });
  const worst = worstOurs(closed.results);
  // O(1): with 100,000 calls in the window, a failure costs what it costs in an empty window
  // (each compared with the raw failing call of its own rounds).
  const emptyRatio = new Map(
    closed.results
      .filter((m) => m.contender.library === 'ours')
      .map((m) => [m.contender.config, median(m.ratios)]),
  );
  const fullRatios = full.results
    .filter((m) => m.contender.library === 'ours')
    .map((m) => {
      const policy = m.contender.config.split(',')[0]!;
      return { policy, full: median(m.ratios), empty: emptyRatio.get(policy) ?? NaN };
    });
  const flat = fullRatios.every((r) => r.full <= 1.25 * r.empty);
  return {
    rows: [
      ...throughputRows('2', 'failing call, circuit stays CLOSED', closed.raw, closed.results),
      ...throughputRows('2b', 'failing call, 100k calls in the window', full.raw, full.results),
    ],
    checks: [
      {
        target: 'failing call ≤ 1.3x raw failing call',
        pass: worst <= 1.3,
        detail: describeRatios(closed.results),
      },
      {
        target: 'failure path O(1) however full the window',
        pass: flat,
        detail: fullRatios
          .map(
            (r) =>
              `${r.policy} ${formatRatio(r.full)} with 100k calls in the window vs ${formatRatio(r.empty)} empty`,
          )
          .join('; '),
      },
    ],
  };
}
