/**
 * Case 10: a Redis that stops answering under load, then answers again. One `RedisStore` (quorum 1,
 * the other store options default: commandTimeout 500 ms, retryInterval 1 s) talks to a
 * `redis-server` through a TCP proxy that counts the commands and bytes the store sends
 * (test/redis/helpers/proxy.ts); three callers call a healthy dependency through one breaker in a
 * loop, one event-loop turn apart. Each round:
 *
 * - **paused**: the server is frozen (`SIGSTOP`): it keeps the connections and reads nothing. The
 *   store notices when a command takes longer than commandTimeout, and decides locally. Counted:
 *   the commands and bytes the store sent to the frozen server, from the freeze until the store
 *   gave up on it, and in all while the server stayed frozen (another second); and, checked on
 *   every event-loop turn of the freeze, the most commands unanswered at once (those in flight when
 *   the server froze included: the proxy counts Redis's answers too). Then the server runs
 *   again (`SIGCONT`); measured: the time until the store shares state again (its `storeStatus`
 *   event).
 * - **restarted**: the server is killed and started again; measured: the time from the new server
 *   answering `PING` until the store shares state again. This is the figure a pause should match.
 *
 * Redis: a `redis-server` this process starts on a free loopback port (freezing needs its pid);
 * with `REDIS_URL` only, or neither, the case reports itself skipped.
 */
import { Breaker } from '../lib/core/index.js';
import { RedisStore } from '../lib/redis/index.js';
import { startProxy } from '../test/redis/helpers/proxy.js';
import { startBenchRedis } from './redis.js';
import { type CaseResult, type Check, type Row, max, median, min, tick } from './harness.js';
import { ok } from './subjects.js';

const TITLE_SENT = 'Redis frozen (SIGSTOP) under load: commands sent to it until the store gave up';
const TITLE_RESYNC = 'Redis back: from SIGCONT (or a restart) until the store shares state again';
const TARGET = 'Redis back: shared again after a pause as soon as after a restart (median)';
const CALLERS = 3;
/** How long the server stays frozen after the store gave up on it, in ms. */
const FROZEN_MS = 1_000;
/** A hang guard for each wait; a round that needs it fails the case. */
const GUARD_MS = 15_000;

function skipped(reason: string): CaseResult {
  const row = (id: string, title: string): Row => ({
    id,
    title,
    subject: reason,
    median: '—',
    range: '—',
    ratio: '—',
  });
  return {
    rows: [row('10a', TITLE_SENT), row('10b', TITLE_RESYNC)],
    checks: [{ target: TARGET, pass: undefined, skipped: true, detail: reason }],
  };
}

/** Waits for `condition`, calling `sample` on every event-loop turn meanwhile. */
async function until(condition: () => boolean, what: string, sample?: () => void): Promise<void> {
  const deadline = Date.now() + GUARD_MS;
  while (!condition()) {
    sample?.();
    if (Date.now() > deadline) throw new Error(`case 10: timed out waiting for ${what}`);
    await tick();
  }
}

export async function runRedisPause(scale: number): Promise<CaseResult> {
  const redis = await startBenchRedis();
  if ('skipped' in redis) return skipped(redis.skipped);
  if (!redis.owned) {
    await redis.stop();
    return skipped('skipped: needs a redis-server it starts (REDIS_URL cannot be frozen)');
  }
  const proxy = await startProxy({ port: redis.port });
  const store = new RedisStore({
    redis: proxy.url,
    prefix: `nestjs-circuit-breaker-bench-pause:${process.pid}:`,
    quorum: 1,
    logger: { warn: () => undefined, log: () => undefined },
  });
  const breaker = new Breaker({ name: 'bench-pause', store });
  /** When the store last reported `shared`, by `performance.now()`. */
  let sharedAt = NaN;
  breaker.onStoreStatus((e) => {
    if (e.status === 'shared') sharedAt = performance.now();
  });
  let running = true;
  let calls = 0;
  const callers = Array.from({ length: CALLERS }, async () => {
    while (running) {
      await breaker.execute(ok);
      calls++;
      await tick();
    }
  });
  const sentCommands: number[] = [];
  const sentBytes: number[] = [];
  const frozenCommands: number[] = [];
  const unanswered: number[] = [];
  const afterPause: number[] = [];
  const afterRestart: number[] = [];
  try {
    await until(() => store.status === 'shared', 'the store to reach Redis');
    const rounds = Math.max(3, Math.round(5 * scale));
    for (let round = 0; round < rounds; round++) {
      // Paused.
      const load = calls;
      await until(() => calls > load + 1_000, 'calls to flow');
      const before = proxy.sent();
      let most = 0;
      const sample = () => (most = Math.max(most, proxy.unanswered()));
      redis.pause();
      await until(
        () => store.status === 'degraded',
        'the store to give up on a frozen Redis',
        sample,
      );
      const atGiveUp = proxy.sent();
      sentCommands.push(atGiveUp.commands - before.commands);
      sentBytes.push(atGiveUp.bytes - before.bytes);
      const thawAt = Date.now() + FROZEN_MS;
      await until(() => Date.now() >= thawAt, 'the freeze to end', sample);
      sample();
      frozenCommands.push(proxy.sent().commands - before.commands);
      unanswered.push(most);
      const resumed = performance.now();
      redis.resume();
      await until(() => store.status === 'shared', 'the store to share again after SIGCONT');
      afterPause.push(sharedAt - resumed);

      // Restarted.
      const load2 = calls;
      await until(() => calls > load2 + 1_000, 'calls to flow');
      await redis.restart();
      const restarted = performance.now();
      await until(() => store.status === 'shared', 'the store to share again after a restart');
      afterRestart.push(Math.max(0, sharedAt - restarted));
    }
  } finally {
    running = false;
    redis.resume();
    await Promise.all(callers);
    breaker.dispose();
    await store.close();
    await proxy.close();
    await redis.stop();
  }
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  const count = (v: number) => v.toFixed(0);
  const kb = (v: number) => `${(v / 1024).toFixed(1)} KB`;
  const row = (
    id: string,
    title: string,
    subject: string,
    values: number[],
    format: (v: number) => string,
  ): Row => ({
    id,
    title,
    subject,
    median: format(median(values)),
    range: `${format(min(values))} – ${format(max(values))}`,
    ratio: '—',
  });
  const checks: Check[] = [
    {
      target: TARGET,
      pass: median(afterPause) <= Math.max(median(afterRestart), 50),
      detail:
        `after SIGCONT ${ms(median(afterPause))}, after a restart ${ms(median(afterRestart))} ` +
        `(medians of ${afterPause.length} rounds); commands sent to the frozen Redis until the ` +
        `store gave up: median ${count(median(sentCommands))}, max ${count(max(sentCommands))} ` +
        `(${count(max(frozenCommands))} in all while frozen; at most ${count(max(unanswered))} ` +
        `unanswered at once)`,
    },
  ];
  return {
    rows: [
      row('10a', TITLE_SENT, 'RedisStore (commands)', sentCommands, count),
      row('10a', TITLE_SENT, 'RedisStore (bytes)', sentBytes, kb),
      row('10a', TITLE_SENT, 'RedisStore (commands, in all while frozen)', frozenCommands, count),
      row('10a', TITLE_SENT, 'RedisStore (most commands unanswered at once)', unanswered, count),
      row('10b', TITLE_RESYNC, 'after SIGCONT', afterPause, ms),
      row('10b', TITLE_RESYNC, 'after a restart (from PING answered)', afterRestart, ms),
    ],
    checks,
  };
}
