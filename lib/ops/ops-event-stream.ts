import type { ServerResponse } from 'node:http';
import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { CircuitBreakerRegistry } from '../circuit-breaker.registry.js';
import { type BreakerStats, windowReport } from '../core/internal.js';
import type { OpsEventLog } from './ops-event-log.js';
import type {
  CircuitBreakerOpsEvent,
  CircuitBreakerOpsFamilySummary,
  CircuitBreakerOpsSummary,
} from './ops-payloads.interface.js';
import { SseClient } from './sse-client.js';

/** The counters a summary is the difference of. */
interface Counts {
  readonly calls: number;
  readonly failed: number;
  readonly refused: number;
}

const countsOf = (s: BreakerStats): Counts => ({
  calls: s.successes + s.failures + s.timeouts + s.ignored,
  failed: s.failures + s.timeouts,
  refused: s.rejections - s.rejectionsByReason.bulkhead,
});

/** What the stream holds, for tests and diagnostics. @internal */
export interface OpsStreamStats {
  readonly clients: number;
  readonly timerRunning: boolean;
  readonly perClient: ReadonlyArray<{ buffered: number; maxBuffered: number; dropped: number }>;
}

/**
 * The server-sent event stream: every transition to every client as it happens, and a `summary`
 * on connect and every `interval` ms, from one shared timer that runs only while a client is
 * connected (unref'ed, cleared when the last client leaves and on module destroy). Summaries are
 * the differences of the breakers' counters since the previous one, so nothing is counted per
 * call. Module destroy ends every stream.
 * @internal
 */
export class OpsEventStream implements OnModuleInit, OnModuleDestroy {
  private readonly clients = new Set<SseClient>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private baseline = new Map<string, Counts>();
  private baselineAt = Date.now();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly registry: CircuitBreakerRegistry,
    private readonly log: OpsEventLog,
    private readonly interval: number,
  ) {}

  onModuleInit(): void {
    this.unsubscribe ??= this.log.onTransition((event) => this.broadcast(event));
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.stopTimer();
    for (const client of [...this.clients]) client.close();
    this.clients.clear();
  }

  /**
   * Streams to `response` (the Node response, headers not sent), for breaker `breaker` only if
   * given; `headers` are headers already set for it by the platform.
   */
  connect(response: ServerResponse, breaker: string | undefined, headers: Record<string, unknown>) {
    const client = new SseClient(response, breaker, (c) => this.leave(c));
    client.open(headers);
    if (response.destroyed) return;
    this.clients.add(client);
    client.send('summary', this.forClient(this.summarise(false), client));
    if (this.timer === undefined) {
      // Counted from now: the first interval's summary covers the time since this client came.
      this.summarise(true);
      this.timer = setInterval(() => this.tick(), this.interval);
      this.timer.unref();
    }
  }

  /** @internal What the stream holds now. */
  stats(): OpsStreamStats {
    return {
      clients: this.clients.size,
      timerRunning: this.timer !== undefined,
      perClient: [...this.clients].map((c) => ({
        buffered: c.buffered,
        maxBuffered: c.maxBuffered,
        dropped: c.dropped,
      })),
    };
  }

  private leave(client: SseClient): void {
    this.clients.delete(client);
    if (this.clients.size === 0) this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private broadcast(event: CircuitBreakerOpsEvent): void {
    const data = JSON.stringify(event);
    for (const client of this.clients) {
      if (
        client.breaker === undefined ||
        client.breaker === event.circuitBreakerName ||
        client.breaker === event.family
      ) {
        client.send('transition', data);
      }
    }
  }

  private tick(): void {
    const summary = this.summarise(true);
    const all = JSON.stringify(summary);
    for (const client of this.clients) {
      client.send('summary', client.breaker === undefined ? all : this.forClient(summary, client));
    }
  }

  /**
   * The summary of `summary`'s breakers a client follows, as JSON: its breaker's, or its family's
   * (the client follows a family, or one key `<family>:<key>`).
   */
  private forClient(summary: SummaryPayload, client: SseClient): string {
    const name = client.breaker;
    if (name === undefined) return JSON.stringify(summary);
    const one = summary.circuitBreakers[name];
    const familyName =
      one !== undefined || name in summary.families ? name : name.slice(0, name.indexOf(':'));
    const family = summary.families[familyName];
    return JSON.stringify({
      ...summary,
      circuitBreakers: one === undefined ? {} : { [name]: one },
      families: family === undefined ? {} : { [familyName]: family },
    });
  }

  /** Every breaker's summary since the baseline; `advance` moves the baseline to now. */
  private summarise(advance: boolean): SummaryPayload {
    const now = Date.now();
    const seconds = (now - this.baselineAt) / 1000;
    const next = new Map<string, Counts>();
    const circuitBreakers: Record<string, CircuitBreakerOpsSummary> = {};
    for (const [name, stats] of Object.entries(this.registry.snapshot())) {
      const counts = countsOf(stats);
      const before = this.baseline.get(name) ?? { calls: 0, failed: 0, refused: 0 };
      const calls = counts.calls - before.calls;
      next.set(name, counts);
      circuitBreakers[name] = {
        state: stats.state,
        failureRate: windowReport(stats, this.registry.get(name).options.circuit).failureRate,
        calls,
        failedCalls: counts.failed - before.failed,
        notPermittedCalls: counts.refused - before.refused,
        callsPerSecond: seconds > 0 ? Math.round((calls / seconds) * 100) / 100 : 0,
        lastTransition: this.log.lastTransition(name),
      };
    }
    if (advance) {
      this.baseline = next;
      this.baselineAt = now;
    }
    // A family is its counts by state: no per-key figures (a family may hold thousands of keys).
    const families: Record<string, CircuitBreakerOpsFamilySummary> = {};
    for (const [name, { keys, states }] of Object.entries(this.registry.familySnapshot())) {
      families[name] = { keys, states };
    }
    return { time: new Date(now).toISOString(), circuitBreakers, families };
  }
}

/** The `data` of a `summary` message. */
interface SummaryPayload {
  readonly time: string;
  readonly circuitBreakers: Record<string, CircuitBreakerOpsSummary>;
  /** Every family's keys by state. */
  readonly families: Record<string, CircuitBreakerOpsFamilySummary>;
}
