/**
 * `npm run bench`: every case of issue 4 in one process, one markdown table.
 *
 *   npm run bench                 all cases
 *   npm run bench -- 1 3          only cases 1 and 3
 *   BENCH_SCALE=0.3 npm run bench fewer rounds (a quick look; the README's table uses 1)
 *
 * Node flags (see package.json): `--expose-gc` so that heap figures are taken after a full
 * collection; `--no-flush-bytecode` so that V8 does not discard the bytecode of functions unused
 * for a while during those collections, which would show up as negative heap growth.
 */
import { cpus } from 'node:os';
import { runAllocation } from './allocation.js';
import { runClosed } from './closed.js';
import { runFailing } from './failing.js';
import { runFamilyMemory } from './family-memory.js';
import { type CaseResult, type Check, type Row, checkLines, markdownTable } from './harness.js';
import { runIdle } from './idle.js';
import { runLongRun } from './long-run.js';
import { runMetrics } from './metrics.js';
import { runNestRoute } from './nest-route.js';
import { runOpen } from './open.js';
import { runRedisFleet } from './redis-fleet.js';
import { runRedisPause } from './redis-pause.js';
import { runRedisStore } from './redis-store.js';

const cases: Record<string, (scale: number) => Promise<CaseResult>> = {
  '1': runClosed,
  '2': runFailing,
  '3': runOpen,
  '4': runAllocation,
  '5': runIdle,
  '6': runLongRun,
  '7': runNestRoute,
  '8': runRedisStore,
  '9': runRedisFleet,
  '10': runRedisPause,
  '11': runMetrics,
  '12': runFamilyMemory,
};

const scale = Number(process.env.BENCH_SCALE ?? '1');
if (!(scale > 0))
  throw new Error(`BENCH_SCALE must be a positive number, received ${process.env.BENCH_SCALE}`);
const selected = process.argv.slice(2);
for (const id of selected) if (!(id in cases)) throw new Error(`no case ${id}`);

const started = performance.now();
const rows: Row[] = [];
const checks: Check[] = [];
for (const [id, run] of Object.entries(cases)) {
  if (selected.length > 0 && !selected.includes(id)) continue;
  const caseStart = performance.now();
  const result = await run(scale);
  rows.push(...result.rows);
  checks.push(...result.checks);
  process.stderr.write(
    `case ${id} done in ${((performance.now() - caseStart) / 1000).toFixed(1)} s\n`,
  );
}
const seconds = (performance.now() - started) / 1000;

console.log(
  `Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), ` +
    `${new Date().toISOString().slice(0, 10)}; medians over interleaved rounds, ` +
    `ratios to the raw call measured in the same round; ${seconds.toFixed(0)} s in all` +
    (scale === 1 ? '' : ` (BENCH_SCALE=${scale})`),
);
console.log('');
console.log(markdownTable(rows));
console.log('');
console.log('Targets:');
console.log(checkLines(checks));
