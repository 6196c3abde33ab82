/**
 * Case 7: requests per second of a Nest route whose service method is `@CircuitBreaker()`-decorated,
 * against the same route undecorated, in the same app and the same run. The app runs in a child
 * process (`nest-app.ts`); autocannon drives it from this one, alternating routes round by round
 * (plain, decorated, decorated, plain, ...) so that drift on a shared machine hits both alike.
 *
 * Pending (not failed) until the Nest integration lands: `lib/circuit-breaker.decorator.ts`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { type CaseResult, type Row, formatRatio, max, median, min } from './harness.js';

const TITLE = 'Nest route: requests/s (autocannon, 10 connections)';

/** The repository root: this file runs from `dist-bench/bench/`. */
const root = fileURLToPath(new URL('../../', import.meta.url));

function pending(): CaseResult {
  return {
    rows: [
      {
        id: '7',
        title: TITLE,
        subject: 'pending: Nest integration not present',
        median: '—',
        range: '—',
        ratio: '—',
      },
    ],
    checks: [
      {
        target: 'decorated route ≥ 97% of undecorated requests/s',
        pass: undefined,
        detail: 'pending: Nest integration not present (lib/circuit-breaker.decorator.ts)',
      },
    ],
  };
}

function startApp(): Promise<{ child: ChildProcess; port: number; wrapped: boolean }> {
  const child = fork(fileURLToPath(new URL('./nest-app.js', import.meta.url)), [], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (message: { port?: number; wrapped?: boolean; error?: string }) => {
      if (message.port !== undefined) {
        resolve({ child, port: message.port, wrapped: message.wrapped === true });
      } else {
        reject(new Error(`the Nest app did not start: ${message.error}`));
      }
    });
    child.once('exit', (code) => reject(new Error(`the Nest app exited with code ${code}`)));
  });
}

async function requestsPerSecond(url: string, seconds: number): Promise<number> {
  const result = await autocannon({ url, connections: 10, duration: seconds });
  if (result.errors > 0 || result.non2xx > 0) {
    throw new Error(`${url}: ${result.errors} errors, ${result.non2xx} non-2xx responses`);
  }
  return result.requests.average;
}

export async function runNestRoute(scale: number): Promise<CaseResult> {
  if (!existsSync(`${root}lib/circuit-breaker.decorator.ts`)) return pending();
  const { child, port, wrapped } = await startApp();
  try {
    const plainUrl = `http://127.0.0.1:${port}/plain`;
    const decoratedUrl = `http://127.0.0.1:${port}/decorated`;
    await requestsPerSecond(plainUrl, 1);
    await requestsPerSecond(decoratedUrl, 1);
    const rounds = Math.max(2, Math.round(6 * scale));
    const seconds = 2;
    const plain: number[] = [];
    const decorated: number[] = [];
    for (let round = 0; round < rounds; round++) {
      if (round % 2 === 0) {
        plain.push(await requestsPerSecond(plainUrl, seconds));
        decorated.push(await requestsPerSecond(decoratedUrl, seconds));
      } else {
        decorated.push(await requestsPerSecond(decoratedUrl, seconds));
        plain.push(await requestsPerSecond(plainUrl, seconds));
      }
    }
    const ratios = decorated.map((d, i) => d / plain[i]!);
    const ratio = median(ratios);
    const row = (subject: string, values: number[], r: string): Row => ({
      id: '7',
      title: TITLE,
      subject,
      median: `${median(values).toFixed(0)} req/s`,
      range: `${min(values).toFixed(0)} – ${max(values).toFixed(0)} req/s`,
      ratio: r,
    });
    return {
      rows: [
        row('undecorated route', plain, '1.00x'),
        row(
          `@CircuitBreaker() route${wrapped ? '' : ' (WARNING: method not wrapped)'}`,
          decorated,
          formatRatio(ratio),
        ),
      ],
      checks: [
        {
          target: 'decorated route ≥ 97% of undecorated requests/s',
          pass: wrapped && ratio >= 0.97,
          detail: `${(ratio * 100).toFixed(1)}% (median of ${rounds} paired rounds of ${seconds} s; ratios ${min(ratios).toFixed(3)} – ${max(ratios).toFixed(3)})${wrapped ? '' : '; the decorated method was not wrapped'}`,
        },
      ],
    };
  } finally {
    child.disconnect();
    child.kill();
  }
}
