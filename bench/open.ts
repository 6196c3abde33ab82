/**
 * Case 3: rejection while OPEN. Each breaker is tripped by real failures (not forced open), with an
 * open period of an hour, then rejects every call. Reported in absolute time per rejection (the
 * target is ≤ 1 µs) and as a ratio to the raw failing call measured in the same round.
 */
import { CircuitBreakerPolicy } from 'cockatiel';
import {
  type CaseResult,
  type Contender,
  formatNs,
  interleave,
  median,
  throughputRows,
} from './harness.js';
import {
  COCKATIEL_KINDS,
  HOUR,
  OPOSSUM_KINDS,
  OUR_POLICIES,
  cockatiel,
  cockatielIsOpen,
  failing,
  ok,
  opossum,
  opossumLabel,
  ours,
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

async function trip(call: () => Promise<unknown>, isOpen: () => boolean, name: string) {
  for (let i = 0; i < 1_000 && !isOpen(); i++) await call().catch(() => undefined);
  if (!isOpen()) throw new Error(`${name} did not open`);
}

const contenders: Contender[] = [
  ...OUR_POLICIES.map((policy): Contender => ({
    library: 'ours',
    config: policy,
    setup: async () => {
      const breaker = ours(policy, { openDuration: HOUR });
      await trip(
        () => breaker.execute(failing),
        () => breaker.state === 'OPEN',
        policy,
      );
      return {
        run: async (n) => {
          for (let i = 0; i < n; i++) {
            try {
              await breaker.execute(ok);
            } catch {
              // CircuitOpenError
            }
          }
        },
        dispose: () => breaker.dispose(),
      };
    },
  })),
  ...COCKATIEL_KINDS.map((kind): Contender => ({
    library: 'cockatiel',
    config: kind,
    setup: async () => {
      const policy: CircuitBreakerPolicy = cockatiel(kind);
      await trip(
        () => policy.execute(failing),
        () => cockatielIsOpen(policy),
        kind,
      );
      return {
        run: async (n) => {
          for (let i = 0; i < n; i++) {
            try {
              await policy.execute(ok);
            } catch {
              // BrokenCircuitError
            }
          }
        },
      };
    },
  })),
  ...OPOSSUM_KINDS.map((kind): Contender => ({
    library: 'opossum',
    config: opossumLabel(kind),
    setup: async () => {
      let fail = true;
      const breaker = opossum(kind, () => (fail ? failing() : ok()));
      await trip(
        () => breaker.fire(),
        () => breaker.opened,
        kind,
      );
      fail = false;
      return {
        run: async (n) => {
          for (let i = 0; i < n; i++) {
            try {
              await breaker.fire();
            } catch {
              // 'Breaker is open'
            }
          }
        },
        dispose: () => breaker.shutdown(),
      };
    },
  })),
];

export async function runOpen(scale: number): Promise<CaseResult> {
  const result = await interleave({
    rounds: Math.max(5, Math.round(40 * scale)),
    warmup: 2,
    ops: 10_000,
    raw,
    contenders,
  });
  const ourMedians = result.results
    .filter((m) => m.contender.library === 'ours')
    .map((m) => median(m.perCall));
  const worst = Math.max(...ourMedians);
  const fastestPeer = Math.min(
    ...result.results.filter((m) => m.contender.library !== 'ours').map((m) => median(m.perCall)),
  );
  const peers = result.results
    .filter((m) => m.contender.library !== 'ours')
    .map((m) => `${m.contender.library} ${formatNs(median(m.perCall))}`)
    .join(', ');
  return {
    rows: throughputRows('3', 'rejection while OPEN', result.raw, result.results),
    checks: [
      {
        target: 'reject while OPEN ≤ 1.0 µs median',
        pass: worst <= 1000,
        detail: `ours worst policy ${formatNs(worst)}`,
      },
      {
        target: 'reject while OPEN ≥ 3x faster than both peers',
        pass: fastestPeer >= 3 * worst,
        detail: `fastest peer / ours worst = ${(fastestPeer / worst).toFixed(1)}x (${peers})`,
      },
    ],
  };
}
