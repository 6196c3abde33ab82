/**
 * Case 11: the CLOSED hot path with Prometheus metrics registered, against the same breaker
 * without them (issue 12: within 1.3x), per call and in heap allocated per call.
 *
 * Measured in a child process of its own (metrics-child.ts): a breaker with listeners takes the
 * timed paths of the engine's shared functions, and in the main process that type feedback would
 * slow every later case's breakers, which have none.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CaseResult } from './harness.js';

export function runMetrics(scale: number): Promise<CaseResult> {
  const child = fork(
    fileURLToPath(new URL('./metrics-child.js', import.meta.url)),
    [String(scale)],
    {
      execArgv: process.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  return new Promise((resolve, reject) => {
    child.once('message', (result: CaseResult) => resolve(result));
    child.once('exit', (code) => reject(new Error(`the metrics bench exited with code ${code}`)));
  });
}
