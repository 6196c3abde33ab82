import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Family, Sample } from './fixture/exposition.js';
import {
  type MetricsApp,
  OPEN_MS,
  PRICES_TIMEOUT_MS,
  startMetricsApp,
} from './fixture/metrics-app.js';
import { labelValuesQuery, readsOf } from './fixture/promql.js';

// dashboards/circuit-breakers.json against a real scrape: every metric every panel (and the
// template variable) queries must be a sample name the application serves, every label it matches
// or groups by must be on that metric, and every metric the application serves must be on the
// dashboard. The scrape comes from the e2e fixture application after it has exercised every kind
// of outcome: successes, a slow call, an ignored 404, failures, a timeout, refusals, fallbacks,
// and a full open / half-open / closed cycle.

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const PREFIX = 'circuitbreaker_';
const DATASOURCE = '${DS_PROMETHEUS}';

interface Target {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  __inputs: Array<{ name: string; type: string; pluginId: string }>;
  schemaVersion: number;
  panels: Panel[];
  templating: {
    list: Array<{
      name: string;
      type: string;
      query: string | { query: string };
      datasource?: Target['datasource'];
    }>;
  };
}

const load = (): Dashboard =>
  JSON.parse(readFileSync(join(root, 'dashboards/circuit-breakers.json'), 'utf8')) as Dashboard;

const panelsOf = (dashboard: Dashboard): Panel[] =>
  dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);

const queryOf = (v: Dashboard['templating']['list'][number]): string =>
  typeof v.query === 'string' ? v.query : v.query.query;

/** Samples by sample name (`..._bucket`, `..._total`, …): what a PromQL selector can match. */
function samplesByName(families: Map<string, Family>): Map<string, Sample[]> {
  const out = new Map<string, Sample[]>();
  for (const family of families.values()) {
    for (const sample of family.samples) {
      out.set(sample.name, [...(out.get(sample.name) ?? []), sample]);
    }
  }
  return out;
}

/** The type of the family each sample name belongs to (`..._bucket` → `histogram`). */
function typesByName(families: Map<string, Family>): Map<string, string> {
  const out = new Map<string, string>();
  for (const family of families.values()) {
    for (const sample of family.samples) out.set(sample.name, family.type);
  }
  return out;
}

/**
 * What in the dashboard is not in the scrape, or is queried against its type (a gauge through
 * `rate()`, a counter or histogram sample without a range), one line each (empty: none).
 */
function problemsOf(dashboard: Dashboard, families: Map<string, Family>): string[] {
  const samples = samplesByName(families);
  const types = typesByName(families);
  const problems: string[] = [];
  const hasLabel = (metric: string, label: string) =>
    (samples.get(metric) ?? []).some((s) => label in s.labels);
  const check = (
    where: string,
    metric: string,
    labels: Array<{ label: string; value?: string }>,
  ) => {
    if (!samples.has(metric)) {
      problems.push(`${where}: no metric ${metric} in the scrape`);
      return;
    }
    for (const { label, value } of labels) {
      if (!hasLabel(metric, label)) problems.push(`${where}: ${metric} has no label ${label}`);
      else if (
        value !== undefined &&
        !samples.get(metric)!.some((s) => s.labels[label] === value)
      ) {
        problems.push(`${where}: no ${metric}{${label}="${value}"} in the scrape`);
      }
    }
  };
  for (const panel of panelsOf(dashboard)) {
    for (const target of panel.targets ?? []) {
      const where = `panel "${panel.title}" (${target.refId})`;
      if (target.expr === undefined) {
        problems.push(`${where}: no expr`);
        continue;
      }
      const { selectors, groupingLabels } = readsOf(target.expr);
      if (selectors.length === 0) problems.push(`${where}: reads no metric`);
      for (const { metric, matchers, ranged } of selectors) {
        const type = types.get(metric);
        if (type === 'gauge' && ranged)
          problems.push(`${where}: ${metric} is a gauge, over a range`);
        if ((type === 'counter' || type === 'histogram') && !ranged) {
          problems.push(
            `${where}: ${metric} is a ${type} sample, read without a range (rate/increase)`,
          );
        }
        check(
          where,
          metric,
          matchers.map(({ label, op, value }) => ({
            label,
            // A literal equality must match a series; a regex or a $variable is the user's choice.
            ...(op === '=' && !value.includes('$') ? { value } : {}),
          })),
        );
      }
      // (Metrics missing from the scrape are reported above; their labels are not checked.)
      const known = selectors.filter(({ metric }) => samples.has(metric));
      for (const label of groupingLabels) {
        if (known.length > 0 && !known.some(({ metric }) => hasLabel(metric, label))) {
          problems.push(`${where}: groups by ${label}, which none of its metrics has`);
        }
      }
    }
  }
  for (const variable of dashboard.templating.list) {
    if (variable.type !== 'query') continue;
    const { metric, label } = labelValuesQuery(queryOf(variable));
    check(`variable $${variable.name}`, metric, [{ label }]);
  }
  return problems;
}

let app: MetricsApp;
let families: Map<string, Family>;

beforeAll(async () => {
  app = await startMetricsApp('express', PREFIX);
  const { downstream, clock } = app;
  const call = async (path: string, latencyMs: number) => {
    downstream.latencyMs = latencyMs;
    await app.request(path);
  };
  for (const [path, ms] of [
    ['a', 100],
    ['b', 1_500],
    ['missing', 50],
    ['c', 200],
  ] as const) {
    await call(`/prices/${path}`, ms);
  }
  await call('/quotes/a', 100);
  downstream.status = 503;
  await call('/prices/d', 300);
  const hanging = app.request('/prices/hang');
  for (let i = 0; downstream.pending === 0; i++) {
    if (i > 2_000) throw new Error('the dependency never received the hanging call');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  clock.advance(PRICES_TIMEOUT_MS);
  await hanging;
  for (const path of ['/prices/e', '/quotes/b', '/quotes/c', '/quotes/d']) await call(path, 300);
  downstream.status = 200;
  clock.advance(OPEN_MS);
  await call('/prices/f', 100);
  await call('/quotes/e', 100);
  families = await app.scrape();
});

afterAll(async () => {
  await app.close();
});

describe('dashboards/circuit-breakers.json', () => {
  it('is a Grafana 10+ dashboard on a ${DS_PROMETHEUS} input, with a $name variable', () => {
    const dashboard = load();
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(37);
    expect(dashboard.__inputs).toEqual([
      expect.objectContaining({
        name: 'DS_PROMETHEUS',
        type: 'datasource',
        pluginId: 'prometheus',
      }),
    ]);
    const panels = panelsOf(dashboard);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const panel of panels.filter((p) => p.type !== 'row')) {
      expect({ panel: panel.title, uid: panel.datasource?.uid }).toEqual({
        panel: panel.title,
        uid: DATASOURCE,
      });
      for (const target of panel.targets ?? []) expect(target.datasource?.uid).toBe(DATASOURCE);
    }
    const [variable] = dashboard.templating.list;
    expect(dashboard.templating.list).toHaveLength(1);
    expect(variable).toMatchObject({
      name: 'name',
      type: 'query',
      datasource: { uid: DATASOURCE },
    });
    expect(queryOf(variable!)).toBe('label_values(circuitbreaker_state, name)');
    // Every query filters by the variable.
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        for (const { metric, matchers } of readsOf(target.expr ?? '').selectors) {
          expect({ panel: panel.title, metric, matchers }).toEqual({
            panel: panel.title,
            metric,
            matchers: expect.arrayContaining([{ label: 'name', op: '=~', value: '$name' }]),
          });
        }
      }
    }
  });

  it('has the panels it promises: state, calls, p50/p99, rates, refusals, transitions, fallbacks', () => {
    const panels = panelsOf(load());
    const exprs = (title: string) =>
      panels.find((p) => p.title === title)?.targets?.map((t) => t.expr ?? '') ?? [];
    expect(panels.map((p) => p.type)).toEqual(expect.arrayContaining(['stat', 'state-timeline']));
    expect(exprs('Call duration p50 / p99').join('\n')).toMatch(
      /histogram_quantile\(0\.5,[^\n]*\n.*histogram_quantile\(0\.99,/,
    );
    const metricsOf = (title: string) =>
      exprs(title).flatMap((e) => readsOf(e).selectors.map((s) => s.metric));
    expect({
      state: metricsOf('Current state'),
      timeline: metricsOf('State over time'),
      calls: metricsOf('Call rate by outcome'),
      rates: metricsOf('Failure rate and slow-call rate'),
      refused: metricsOf('Not permitted calls'),
      transitions: metricsOf('State transitions'),
      fallbacks: metricsOf('Fallback calls'),
    }).toEqual({
      state: Array(5).fill('circuitbreaker_state'),
      timeline: Array(5).fill('circuitbreaker_state'),
      calls: ['circuitbreaker_calls_seconds_count'],
      rates: ['circuitbreaker_failure_rate', 'circuitbreaker_slow_call_rate'],
      refused: ['circuitbreaker_not_permitted_calls_total'],
      transitions: ['circuitbreaker_state_transitions_total'],
      fallbacks: ['circuitbreaker_fallback_calls_total'],
    });
  });

  it('queries only metrics and labels that a real scrape has', () => {
    expect(problemsOf(load(), families)).toEqual([]);
  });

  it('shows every metric the application serves', () => {
    const used = new Set(
      panelsOf(load()).flatMap((p) =>
        (p.targets ?? []).flatMap((t) => readsOf(t.expr ?? '').selectors.map((s) => s.metric)),
      ),
    );
    const unused = [...families.values()]
      .filter((family) => family.name.startsWith(PREFIX))
      .filter((family) => !family.samples.some((sample) => used.has(sample.name)))
      .map((family) => family.name);
    expect(unused).toEqual([]);
    expect([...families.keys()].filter((name) => name.startsWith(PREFIX))).toHaveLength(9);
  });

  describe('fails on a dashboard that queries what the scrape lacks', () => {
    /** The dashboard with `from` replaced by `to` in the first query that has it. */
    const misspelt = (from: string, to: string): Dashboard => {
      const dashboard = load();
      const target = panelsOf(dashboard)
        .flatMap((p) => p.targets ?? [])
        .find((t) => t.expr?.includes(from));
      target!.expr = target!.expr!.replace(from, to);
      return dashboard;
    };

    it.each([
      [
        'a misspelt metric',
        misspelt('circuitbreaker_calls_seconds_count', 'circuitbreaker_call_seconds_count'),
        'panel "Call rate by outcome" (A): no metric circuitbreaker_call_seconds_count in the scrape',
      ],
      [
        'a histogram suffix on a gauge',
        misspelt('circuitbreaker_failure_rate{', 'circuitbreaker_failure_rate_total{'),
        'panel "Failure rate and slow-call rate" (A): no metric circuitbreaker_failure_rate_total in the scrape',
      ],
      [
        'a counter without _total',
        misspelt('circuitbreaker_fallback_calls_total', 'circuitbreaker_fallback_calls'),
        'panel "Fallback calls" (A): no metric circuitbreaker_fallback_calls in the scrape',
      ],
      [
        'a misspelt label value',
        misspelt('state="half_open"', 'state="halfopen"'),
        'panel "Current state" (A): no circuitbreaker_state{state="halfopen"} in the scrape',
      ],
      [
        'a label the metric lacks',
        misspelt('by (name, kind)', 'by (name, outcome)'),
        'panel "Call rate by outcome" (A): groups by outcome, which none of its metrics has',
      ],
      [
        'a counter read without rate()',
        misspelt(
          'rate(circuitbreaker_fallback_calls_total{name=~"$name"}[$__rate_interval])',
          'circuitbreaker_fallback_calls_total{name=~"$name"}',
        ),
        'panel "Fallback calls" (A): circuitbreaker_fallback_calls_total is a counter sample, read without a range (rate/increase)',
      ],
      [
        'a gauge through rate()',
        misspelt(
          'circuitbreaker_slow_call_rate{name=~"$name"}',
          'rate(circuitbreaker_slow_call_rate{name=~"$name"}[5m])',
        ),
        'panel "Failure rate and slow-call rate" (B): circuitbreaker_slow_call_rate is a gauge, over a range',
      ],
    ])('%s', (_what, dashboard, problem) => {
      expect(problemsOf(dashboard, families)).toEqual([problem]);
    });

    it('a query that is not valid PromQL', () => {
      const broken = misspelt('[$__rate_interval]))', '[$__rate_interval])');
      expect(() => problemsOf(broken, families)).toThrow(/^not valid PromQL at column \d+: /);
    });

    it('a misspelt template variable query', () => {
      const dashboard = load();
      dashboard.templating.list[0]!.query = 'label_values(circuitbreaker_states, name)';
      expect(problemsOf(dashboard, families)).toEqual([
        'variable $name: no metric circuitbreaker_states in the scrape',
      ]);
    });
  });
});
