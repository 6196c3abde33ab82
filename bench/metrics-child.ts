/**
 * The child process of case 11 (see metrics.ts): raw, a consecutive breaker, the same breaker with
 * Prometheus metrics on a registry of its own, and with OpenTelemetry instruments, interleaved;
 * then their heap per call.
 * Sends the case's rows and checks to its parent.
 */
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import { instrumentCircuitBreakers } from '../lib/opentelemetry/index.js';
import { registerCircuitBreakerMetrics } from '../lib/prometheus/index.js';
import { bytesPerCall } from './allocation.js';
import { sequential } from './closed.js';
import {
  type CaseResult,
  type Contender,
  GcWatch,
  formatBytes,
  interleave,
  median,
  throughputRows,
} from './harness.js';
import { ok, ours } from './subjects.js';

const TITLE = 'CLOSED, sequential, with metrics';

const plain: Contender = {
  library: 'ours',
  config: 'consecutive',
  setup: () => {
    const breaker = ours('consecutive');
    return {
      run: async (n) => {
        for (let i = 0; i < n; i++) await breaker.execute(ok);
      },
      dispose: () => breaker.dispose(),
    };
  },
};

const withMetrics: Contender = {
  library: 'ours + prometheus',
  config: 'consecutive',
  setup: () => {
    const breaker = ours('consecutive');
    const metrics = registerCircuitBreakerMetrics([breaker], { registry: new Registry() });
    return {
      run: async (n) => {
        for (let i = 0; i < n; i++) await breaker.execute(ok);
      },
      dispose: () => {
        metrics.dispose();
        breaker.dispose();
      },
    };
  },
};

const withOpenTelemetry: Contender = {
  library: 'ours + opentelemetry',
  config: 'consecutive',
  setup: () => {
    const breaker = ours('consecutive');
    // The SDK's meter provider without a reader: the instruments record as they would with one.
    const meterProvider = new MeterProvider();
    const telemetry = instrumentCircuitBreakers([breaker], { meterProvider });
    return {
      run: async (n) => {
        for (let i = 0; i < n; i++) await breaker.execute(ok);
      },
      dispose: () => {
        telemetry.dispose();
        breaker.dispose();
        void meterProvider.shutdown();
      },
    };
  },
};

async function measure(scale: number): Promise<CaseResult> {
  const seq = await interleave({
    rounds: Math.max(5, Math.round(50 * scale)),
    warmup: 3,
    ops: 20_000,
    raw: sequential.raw,
    contenders: [plain, withMetrics, withOpenTelemetry],
  });
  const [off, on, otel] = seq.results;
  const cost = median(on!.ratios) / median(off!.ratios);
  const otelCost = median(otel!.ratios) / median(off!.ratios);
  const watch = new GcWatch();
  const bytes: [number[], number[], number[]] = [[], [], []];
  try {
    const rounds = Math.max(5, Math.round(15 * scale));
    for (let round = 0; round <= rounds; round++) {
      const raw = await bytesPerCall(sequential.raw, watch);
      const a = await bytesPerCall(plain, watch);
      const b = await bytesPerCall(withMetrics, watch);
      const c = await bytesPerCall(withOpenTelemetry, watch);
      if (round > 0) {
        bytes[0].push(a - raw);
        bytes[1].push(b - raw);
        bytes[2].push(c - raw);
      }
    }
  } finally {
    watch.stop();
  }
  const heap =
    `${formatBytes(median(bytes[0]))} without, ${formatBytes(median(bytes[1]))} with Prometheus, ` +
    `${formatBytes(median(bytes[2]))} with OpenTelemetry`;
  return {
    rows: throughputRows('11', TITLE, seq.raw, seq.results),
    checks: [
      {
        target: 'CLOSED sequential with Prometheus metrics ≤ 1.3x without',
        pass: cost <= 1.3,
        detail:
          `consecutive: ${cost.toFixed(2)}x (OpenTelemetry instruments: ${otelCost.toFixed(2)}x); ` +
          `heap per call above raw ${heap}`,
      },
    ],
  };
}

const result = await measure(Number(process.argv[2] ?? '1'));
process.send!(result, () => process.exit(0));
