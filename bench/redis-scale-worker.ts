/**
 * One instance of the cost-at-scale fleet (bench/redis-scale.ts), in its own process: one
 * `RedisStore` (default options: quorum 2, keyTtl a day, staleConfigAfter a minute; commandTimeout
 * `COMMAND_TIMEOUT`), and `BREAKERS` breakers named b0, b1… with the default options
 * (consecutive, 5 failures, 30 s open), bound when the parent says so, `WAVE` at a time.
 *
 * Steady traffic: every `TICK_MS` a timer starts the calls owed at `RATE` calls/s since the
 * traffic started (at most 5 ticks' worth at once, so a starved process does not burst), each to a
 * breaker drawn at random among all of them, with a dependency that answers at once. Calls are not
 * awaited one by one: the calls of one tick run in the same event-loop turn, as requests read in
 * one poll phase do.
 *
 * The storm (`storm`): from the time the parent gives, breakers b0…b(count-1) fail; this instance
 * calls each of them once a second (in its own random order, spread over the second) until it has
 * seen every one OPEN, and reports when it first saw each open (`stamp()`, comparable across the
 * processes of one host).
 *
 * The hot path (`latency`): traffic paused, the same calls through this instance's Redis breakers
 * and through as many in-memory breakers (`new Breaker({ name })`), interleaved round by round
 * (bench/harness.ts), one call at a time, to breakers drawn at random (the same sequence for both).
 */
import { Breaker, isCircuitOpenError } from '../lib/core/index.js';
import { RedisStore } from '../lib/redis/index.js';
import { type Contender, interleave, sleep } from './harness.js';
import {
  type FromInstance,
  type InstanceCounters,
  type ToInstance,
  breakerName,
  random,
  stamp,
} from './redis-scale-protocol.js';
import { failing, ok } from './subjects.js';

const N = Number(process.env.BREAKERS);
const RATE = Number(process.env.RATE);
const TICK_MS = Number(process.env.TICK_MS);
const draw = random(Number(process.env.SEED));
const pick = (n: number) => Math.floor(draw() * n);
const send = (message: FromInstance) => {
  if (process.connected) process.send?.(message);
};
const pid = process.pid;

const store = new RedisStore({
  redis: process.env.REDIS_URL!,
  prefix: process.env.PREFIX!,
  logger: {
    warn: (message) => process.stderr.write(`instance ${pid}: ${message}\n`),
    log: () => undefined,
  },
  ...(process.env.COMMAND_TIMEOUT ? { commandTimeout: Number(process.env.COMMAND_TIMEOUT) } : {}),
});
const breakers: Breaker[] = [];
/** 1: the breaker's dependency is down (the storm). */
const down = new Uint8Array(N);
/** When this instance first saw each breaker OPEN (NaN: not yet). */
const openedAt = new Float64Array(N).fill(NaN);
/** The turn in which each breaker was last called, for counting (breaker, turn) pairs. */
const calledInTurn = new Uint32Array(N);
let turn = 1;
let ready = false;
/** What the instance is doing, for its log lines. */
let phase = 'binding';
const c = { calls: 0, pairs: 0, rejected: 0, failed: 0, transitions: 0, storeEvents: 0 };

const settled = () => undefined;
const refused = (error: unknown) => {
  if (isCircuitOpenError(error)) c.rejected++;
  else c.failed++;
};

function call(i: number): void {
  c.calls++;
  if (calledInTurn[i] !== turn) {
    calledInTurn[i] = turn;
    c.pairs++;
  }
  breakers[i]!.execute(down[i] === 1 ? failing : ok).then(settled, refused);
}

/**
 * Resolves true once the store shares state and has nothing in flight, waiting or pending; false if
 * that has not happened within `guardMs`.
 */
async function quiescent(guardMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + guardMs;
  for (;;) {
    const s = store.stats();
    if (s.status === 'shared' && s.inFlight === 0 && s.waiting === 0 && s.outcomes.pending === 0) {
      return true;
    }
    if (Date.now() > deadline) return false;
    await sleep(5);
  }
}

function bind(from = 0, to = N): void {
  for (let i = from; i < to; i++) {
    const breaker = new Breaker({ name: breakerName(i), store });
    breaker.onStateChange((e) => {
      c.transitions++;
      if (e.to === 'OPEN' && Number.isNaN(openedAt[i]!)) openedAt[i] = stamp();
    });
    breaker.onStoreStatus(() => {
      if (ready) c.storeEvents++;
    });
    breakers.push(breaker);
  }
}

/** Breakers bound at a time (see bench/redis-scale.ts: binding thousands at once does not work). */
const WAVE = 250;

/** Binds every breaker, `WAVE` at a time, each wave once the store has caught up with the last. */
async function bindAll(): Promise<void> {
  const start = performance.now();
  let shared = true;
  for (let from = 0; shared && from < N; from += WAVE) {
    bind(from, Math.min(N, from + WAVE));
    shared = await quiescent(30_000);
  }
  ready = true;
  send({ type: 'ready', pid, shared, ms: performance.now() - start });
}

// Steady traffic.
let trafficOn = false;
let trafficStart = 0;
let trafficCalls = 0;
const ticker = setInterval(() => {
  turn++;
  if (!trafficOn) return;
  const owed = Math.floor(((performance.now() - trafficStart) * RATE) / 1_000) - trafficCalls;
  const n = Math.min(owed, Math.ceil((RATE * TICK_MS * 5) / 1_000));
  for (let k = 0; k < n; k++) call(pick(N));
  trafficCalls += owed;
}, TICK_MS);

function counters(): InstanceCounters {
  const s = store.stats();
  const d = s.outcomes.dropped;
  const cpu = process.cpuUsage();
  return {
    ...c,
    cpuMs: (cpu.user + cpu.system) / 1_000,
    queued: s.outcomes.queued,
    recorded: s.outcomes.recorded,
    dropped: d.unavailable + d.mismatch + d.overflow + d.stale,
    peakInFlight: s.peakInFlight,
  };
}

async function latency(rounds: number, warmup: number, ops: number): Promise<void> {
  const paused = trafficOn;
  trafficOn = false;
  phase = 'hot path';
  let problems = (await quiescent(10_000)) ? 0 : 1;
  const memory = Array.from({ length: N }, (_, i) => new Breaker({ name: breakerName(i) }));
  const order = Uint32Array.from({ length: ops }, () => pick(N));
  const eventsBefore = c.storeEvents + c.transitions;
  const raw: Contender = {
    library: 'in-memory',
    config: '',
    setup: () => ({
      run: async (n) => {
        for (let k = 0; k < n; k++) await memory[order[k]!]!.execute(ok);
      },
    }),
  };
  const redis: Contender = {
    library: 'RedisStore',
    config: '',
    setup: async () => {
      if (!(await quiescent(10_000))) problems++;
      return {
        run: async (n) => {
          for (let k = 0; k < n; k++) await breakers[order[k]!]!.execute(ok);
        },
        dispose: async () => {
          if (!(await quiescent(10_000))) problems++;
          for (const b of breakers)
            if (b.state !== 'CLOSED' || b.stats().store !== 'shared') problems++;
        },
      };
    },
  };
  const { raw: m, results } = await interleave({ rounds, warmup, ops, raw, contenders: [redis] });
  for (const b of memory) b.dispose();
  problems += c.storeEvents + c.transitions - eventsBefore;
  send({
    type: 'latency',
    pid,
    result: {
      inMemory: m.perCall,
      redis: results[0]!.perCall,
      ratios: results[0]!.ratios,
      problems,
    },
  });
  if (paused) startTraffic();
}

function startTraffic(): void {
  phase = 'traffic';
  trafficOn = true;
  trafficStart = performance.now();
  trafficCalls = 0;
}

function storm(count: number, at: number): void {
  phase = 'storm';
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = pick(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const perTick = Math.ceil((count * TICK_MS) / 1_000);
  let next = 0;
  const timer = setInterval(() => {
    if (stamp() < at) return;
    if (next === 0) for (let i = 0; i < count; i++) down[i] = 1;
    let sent = 0;
    while (sent < perTick) {
      const i = order[next % count]!;
      next++;
      if (Number.isNaN(openedAt[i]!)) {
        call(i);
        sent++;
      }
      if (next % count === 0) break; // a pass is over: the next one starts on the next tick
    }
    if (order.every((i) => !Number.isNaN(openedAt[i]!))) {
      clearInterval(timer);
      send({
        type: 'stormed',
        pid,
        opened: Array.from(openedAt.subarray(0, count), (t) => (Number.isNaN(t) ? null : t)),
      });
    }
  }, TICK_MS);
}

let connected = false;
let lastStatus = store.status;
/** Tells the parent once the store first shares; logs every later change of its status. */
const statusWatch = setInterval(() => {
  const status = store.status;
  if (status !== lastStatus && connected) {
    const s = store.stats();
    process.stderr.write(
      `instance ${pid}: store ${status} (${phase}; ${breakers.length} bound, ` +
        `${s.inFlight} in flight, ${s.waiting} waiting)\n`,
    );
  }
  lastStatus = status;
  if (status !== 'shared' || connected) return;
  connected = true;
  send({ type: 'connected', pid });
}, 5);

process.on('message', (message: ToInstance) => {
  const fail = (error: unknown) => send({ type: 'error', pid, message: String(error) });
  switch (message.type) {
    case 'bind':
      bindAll().catch(fail);
      break;
    case 'traffic':
      if (message.on) startTraffic();
      else trafficOn = false;
      break;
    case 'report':
      send({ type: 'counters', pid, counters: counters() });
      break;
    case 'latency':
      latency(message.rounds, message.warmup, message.ops).catch(fail);
      break;
    case 'storm':
      storm(message.count, message.at);
      break;
    case 'stop':
      phase = 'stopping';
      trafficOn = false;
      clearInterval(ticker);
      void quiescent(10_000).then(async () => {
        for (const b of breakers) b.dispose();
        clearInterval(statusWatch);
        await store.close();
        process.disconnect?.();
      });
      break;
  }
});
