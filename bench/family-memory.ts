/**
 * Case 12: per-key breakers. 100,000 keys of one `BreakerFamily` (default options, maxKeys
 * 100,000): heap per idle key as created and after one call each, what the family adds to a
 * plain breaker, and that an idle family holds no timer. The heap figure is the difference after
 * a full collection divided by the keys; it includes the key strings the family keeps.
 *
 *   npm run bench -- 12
 */
import { BreakerFamily } from '../lib/core/index.js';
import { type CaseResult, formatBytes, gc, tick, watchTimers } from './harness.js';

const KEYS = 100_000;
const WARM_KEYS = 2_000;
/** The target of issue 13: at most 1.5 KB per idle key. */
const TARGET_BYTES = 1.5 * 1024;

const ok = async (): Promise<number> => 1;

function memory(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

function family(keys: number): BreakerFamily {
  return new BreakerFamily({ name: 'tenant', maxKeys: keys });
}

function fill(f: BreakerFamily, keys: number): void {
  for (let i = 0; i < keys; i++) f.get(`tenant-${i}`);
}

async function callEach(f: BreakerFamily, keys: number): Promise<void> {
  for (let i = 0; i < keys; i++) await f.get(`tenant-${i}`).execute(ok);
}

/** Timers alive after making and calling `keys` keys (an async hook sees unref'd ones too). */
async function timersLeft(keys: number): Promise<number> {
  const timers = watchTimers();
  const f = family(keys);
  try {
    fill(f, keys);
    await callEach(f, keys);
    await tick();
    await tick();
    return timers.live.size;
  } finally {
    timers.stop();
    f.dispose();
  }
}

export async function runFamilyMemory(scale: number): Promise<CaseResult> {
  void scale; // A memory figure: the same number of keys at any scale.
  const timers = await timersLeft(1_000);
  // Warm-up, so that code compiled and feedback gathered on first use is not counted.
  const warm = family(WARM_KEYS);
  fill(warm, WARM_KEYS);
  await callEach(warm, WARM_KEYS);
  warm.dispose();
  gc();
  const before = memory();
  const f = family(KEYS);
  fill(f, KEYS);
  gc();
  const created = (memory() - before) / KEYS;
  await callEach(f, KEYS);
  gc();
  const called = (memory() - before) / KEYS;
  const size = f.size;
  f.dispose();
  return {
    rows: [
      {
        id: '12',
        title: `${KEYS.toLocaleString('en-US')} idle keys of one BreakerFamily: heap per key (created; after one call) · timers`,
        subject: 'ours (consecutive)',
        median: `${formatBytes(created)}; ${formatBytes(called)}`,
        range: `${timers} timers`,
        ratio: '—',
      },
    ],
    checks: [
      {
        target: 'idle key of a family ≤ 1.5 KB (100,000 keys), 0 timers',
        pass: size === KEYS && created <= TARGET_BYTES && called <= TARGET_BYTES && timers === 0,
        detail: `${formatBytes(created)} per key created, ${formatBytes(called)} after one call, ${timers} timers, ${size} keys held`,
      },
    ],
  };
}
