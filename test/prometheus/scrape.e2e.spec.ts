import { afterEach, describe, expect, it } from '@jest/globals';
import { PLATFORMS, type Platform } from '../e2e/fixture/app.factory.js';
import { type Family, seriesOf } from './fixture/exposition.js';
import {
  type MetricsApp,
  OPEN_MS,
  PRICES_TIMEOUT_MS,
  startMetricsApp,
} from './fixture/metrics-app.js';

// A real application on a real port (Express and Fastify), calling a real HTTP dependency through
// `@CircuitBreaker()` methods, scraped over HTTP on /metrics and parsed, through a healthy phase,
// an outage and a recovery. Every series of each breaker is compared whole, so that a missing or
// an extra series fails as surely as a wrong value. Time is the application's manual clock: the
// dependency says how long each call took, and no test waits for an open period.
//
// The breakers (fixture/metrics-app.ts):
// - `prices`: slow-call policy, window 4, minimumCalls 4, failure-rate threshold 50%, slow from
//   1 s, timeout 5 s, no fallback (a refusal answers 503 through the module's filter);
// - `quotes`: consecutive policy, 2 failures open it, a fallback answers failed and refused calls.

const STATES = ['closed', 'open', 'half_open', 'forced_open', 'disabled'] as const;
type State = (typeof STATES)[number];
/** prom-client's default bucket bounds, in seconds: the module's default. */
const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Expected {
  state: State;
  /** Durations of the calls that ran, in milliseconds, in the order they settled. */
  calls: Partial<Record<'successful' | 'failed' | 'ignored', number[]>>;
  failureRate: number;
  slowCallRate: number;
  buffered: { successful: number; failed: number };
  slow: number;
  /** Absent: the series does not exist yet. */
  notPermitted?: number;
  transitions: Array<[from: State, to: State, count: number]>;
  fallbacks: number;
}

/** Every series a breaker should have, as `seriesOf()` lists them. */
function series(p: string, e: Expected): Record<string, number> {
  const out: Record<string, number> = {};
  for (const state of STATES) out[`${p}state{state="${state}"}`] = state === e.state ? 1 : 0;
  for (const [kind, ms] of Object.entries(e.calls)) {
    const seconds = ms.map((m) => m / 1000);
    for (const le of BOUNDS) {
      out[`${p}calls_seconds_bucket{le="${le}",kind="${kind}"}`] = seconds.filter(
        (s) => s <= le,
      ).length;
    }
    out[`${p}calls_seconds_bucket{le="+Inf",kind="${kind}"}`] = seconds.length;
    out[`${p}calls_seconds_sum{kind="${kind}"}`] = seconds.reduce((a, b) => a + b, 0);
    out[`${p}calls_seconds_count{kind="${kind}"}`] = seconds.length;
  }
  out[`${p}failure_rate{}`] = e.failureRate;
  out[`${p}slow_call_rate{}`] = e.slowCallRate;
  out[`${p}buffered_calls{kind="successful"}`] = e.buffered.successful;
  out[`${p}buffered_calls{kind="failed"}`] = e.buffered.failed;
  out[`${p}slow_calls{kind="all"}`] = e.slow;
  if (e.notPermitted !== undefined) {
    out[`${p}not_permitted_calls_total{kind="not_permitted"}`] = e.notPermitted;
  }
  for (const [from, to, count] of e.transitions) {
    out[`${p}state_transitions_total{from="${from}",to="${to}"}`] = count;
  }
  out[`${p}fallback_calls_total{kind="all"}`] = e.fallbacks;
  return out;
}

/** Polls `condition` (real I/O must happen first); the deadline only guards against a hang. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const running: MetricsApp[] = [];
afterEach(async () => {
  for (const app of running.splice(0)) await app.close();
});

const CASES: Array<[Platform, string]> = PLATFORMS.flatMap((platform) =>
  ['circuitbreaker_', 'resilience4j_circuitbreaker_'].map((p): [Platform, string] => [platform, p]),
);

describe.each(CASES)('a scrape of a real application on %s, prefix %s', (platform, p) => {
  it('shows every metric with its value through a healthy phase, an outage and a recovery', async () => {
    const app = await startMetricsApp(platform, p);
    running.push(app);
    const { downstream, clock } = app;
    const expectScrape = (families: Map<string, Family>, breaker: string, e: Expected) =>
      expect(seriesOf(families, breaker)).toEqual(series(p, e));
    const call = async (path: string, latencyMs: number, status: number) => {
      downstream.latencyMs = latencyMs;
      expect(await app.request(path)).toMatchObject({ status });
    };

    // Fresh: both breakers exist (declared), nothing has run. Rates are -1: below minimumCalls.
    let scrape = await app.scrape();
    const fresh: Expected = {
      state: 'closed',
      calls: {},
      failureRate: -1,
      slowCallRate: -1,
      buffered: { successful: 0, failed: 0 },
      slow: 0,
      transitions: [],
      fallbacks: 0,
    };
    expectScrape(scrape, 'prices', fresh);
    expectScrape(scrape, 'quotes', fresh);
    for (const type of ['gauge', 'histogram', 'counter']) {
      expect(
        [...scrape.values()].filter((f) => f.name.startsWith(p) && f.type === type),
      ).not.toEqual([]);
    }
    expect(scrape.get(`${p}calls_seconds`)?.type).toBe('histogram');
    expect(scrape.get(`${p}state_transitions_total`)?.type).toBe('counter');
    expect(scrape.get(`${p}state`)?.type).toBe('gauge');

    // Healthy. prices: two calls (one of them slow) and a 404, which is ignored: the window holds
    // 2 calls, fewer than minimumCalls (4), so both rates are still -1.
    await call('/prices/a', 100, 200);
    await call('/prices/b', 1_500, 200);
    await call('/prices/missing', 50, 404);
    scrape = await app.scrape();
    expectScrape(scrape, 'prices', {
      ...fresh,
      calls: { successful: [100, 1_500], ignored: [50] },
      buffered: { successful: 2, failed: 0 },
      slow: 1,
    });
    // Two more: the window is full (4 calls, 1 slow): 0% failed, 25% slow.
    await call('/prices/c', 200, 200);
    await call('/prices/d', 200, 200);
    // quotes: the consecutive policy has no minimum (one call is enough for a rate).
    await call('/quotes/a', 200, 200);
    scrape = await app.scrape();
    const healthyPrices: Expected = {
      ...fresh,
      calls: { successful: [100, 1_500, 200, 200], ignored: [50] },
      failureRate: 0,
      slowCallRate: 25,
      buffered: { successful: 4, failed: 0 },
      slow: 1,
    };
    expectScrape(scrape, 'prices', healthyPrices);
    const healthyQuotes: Expected = {
      ...fresh,
      calls: { successful: [200] },
      failureRate: 0,
      slowCallRate: 0,
      buffered: { successful: 1, failed: 0 },
    };
    expectScrape(scrape, 'quotes', healthyQuotes);

    // Outage. prices: a 503 (502 to our client), then a call that hangs and times out (counted
    // failed, at the timeout, and slow): the window [200, 200, 503, timeout] is 50% failed: open.
    downstream.status = 503;
    await call('/prices/e', 300, 502);
    scrape = await app.scrape();
    expectScrape(scrape, 'prices', {
      ...healthyPrices,
      calls: { ...healthyPrices.calls, failed: [300] },
      failureRate: 25,
      slowCallRate: 25,
      buffered: { successful: 3, failed: 1 },
    });
    const hanging = app.request('/prices/hang');
    await until(() => downstream.pending === 1, 'the dependency holds the call');
    clock.advance(PRICES_TIMEOUT_MS);
    expect(await hanging).toMatchObject({ status: 500 });
    // Refused at once, without reaching the dependency: 503 with Retry-After (the whole period).
    const reached = downstream.received.length;
    expect(await app.request('/prices/f')).toEqual({
      status: 503,
      retryAfter: String(OPEN_MS / 1000),
    });
    expect(await app.request('/prices/g')).toMatchObject({ status: 503 });
    expect(downstream.received).toHaveLength(reached);
    // quotes: two failures open it; the fallback answers them and the refused call (200, cached).
    await call('/quotes/b', 300, 200);
    await call('/quotes/c', 300, 200);
    await call('/quotes/d', 300, 200);
    expect(downstream.received).toHaveLength(reached + 2);
    scrape = await app.scrape();
    const outagePrices: Expected = {
      ...healthyPrices,
      state: 'open',
      calls: { ...healthyPrices.calls, failed: [300, PRICES_TIMEOUT_MS] },
      failureRate: 50,
      slowCallRate: 25,
      buffered: { successful: 2, failed: 2 },
      slow: 1,
      notPermitted: 2,
      transitions: [['closed', 'open', 1]],
    };
    expectScrape(scrape, 'prices', outagePrices);
    const outageQuotes: Expected = {
      ...healthyQuotes,
      state: 'open',
      calls: { successful: [200], failed: [300, 300] },
      failureRate: 66.66666666666666,
      buffered: { successful: 1, failed: 2 },
      notPermitted: 1,
      transitions: [['closed', 'open', 1]],
      fallbacks: 3,
    };
    expectScrape(scrape, 'quotes', outageQuotes);

    // Recovery. The open period passes: the next read finds both half-open.
    downstream.status = 200;
    clock.advance(OPEN_MS);
    scrape = await app.scrape();
    const halfOpen = (e: Expected): Expected => ({
      ...e,
      state: 'half_open',
      transitions: [...e.transitions, ['open', 'half_open', 1]],
    });
    expectScrape(scrape, 'prices', halfOpen(outagePrices));
    expectScrape(scrape, 'quotes', halfOpen(outageQuotes));
    // prices' probe is held by the dependency: a caller meanwhile is refused (the one probe slot
    // is taken) without reaching it. Then the probe succeeds, as does quotes': both close, with
    // an empty window (rates -1 again).
    downstream.latencyMs = 100;
    const probe = app.request('/prices/held');
    await until(
      () => downstream.received.includes('/price/held'),
      'the dependency holds the probe',
    );
    const beforeRefusal = downstream.received.length;
    expect(await app.request('/prices/i')).toMatchObject({ status: 503 });
    expect(downstream.received).toHaveLength(beforeRefusal);
    downstream.release();
    expect(await probe).toMatchObject({ status: 200 });
    await call('/quotes/e', 100, 200);
    scrape = await app.scrape();
    const closed = (e: Expected, successful: number[]): Expected => ({
      ...e,
      state: 'closed',
      calls: { ...e.calls, successful },
      failureRate: -1,
      slowCallRate: -1,
      buffered: { successful: 0, failed: 0 },
      slow: 0,
      transitions: [...halfOpen(e).transitions, ['half_open', 'closed', 1]],
    });
    expectScrape(scrape, 'prices', {
      ...closed(outagePrices, [100, 1_500, 200, 200, 100]),
      notPermitted: 3,
    });
    expectScrape(scrape, 'quotes', closed(outageQuotes, [200, 100]));
  });
});
