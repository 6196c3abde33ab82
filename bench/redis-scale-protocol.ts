/**
 * What the cost-at-scale bench (bench/redis-scale.ts) and its instance processes
 * (bench/redis-scale-worker.ts) say to each other over IPC, and the few helpers both use.
 */
import { performance } from 'node:perf_hooks';

/** Milliseconds since the epoch, sub-millisecond, on the clock every process of the host shares. */
export const stamp = (): number => performance.timeOrigin + performance.now();

/** A small seeded generator (mulberry32): the same seed gives the same calls in every run. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The breaker names of a fleet of `n`. */
export const breakerName = (i: number): string => `b${i}`;

/** Counters an instance keeps from its start; the parent takes deltas. */
export interface InstanceCounters {
  /** Calls started by the steady traffic and the storm. */
  readonly calls: number;
  /** Distinct (breaker, event-loop turn) pairs among those calls: at most one script each. */
  readonly pairs: number;
  readonly rejected: number;
  readonly failed: number;
  /** State changes of this instance's breakers (any state). */
  readonly transitions: number;
  /** `storeStatus` events since the instance was ready (a store that lost Redis). */
  readonly storeEvents: number;
  /** This process's CPU (user + system), in ms. */
  readonly cpuMs: number;
  /** `store.stats().outcomes`: queued, recorded, and every reason to drop one. */
  readonly queued: number;
  readonly recorded: number;
  readonly dropped: number;
  readonly peakInFlight: number;
}

/** The hot-path measurement of one instance: ns per call, one value per round. */
export interface LatencyResult {
  readonly inMemory: number[];
  readonly redis: number[];
  /** redis / inMemory, per round. */
  readonly ratios: number[];
  /** Redis breakers not `shared` and CLOSED after a round, or store events during the phase. */
  readonly problems: number;
}

export type ToInstance =
  | { type: 'bind' }
  | { type: 'traffic'; on: boolean }
  | { type: 'report' }
  | { type: 'latency'; rounds: number; warmup: number; ops: number }
  | { type: 'storm'; count: number; at: number }
  | { type: 'stop' };

export type FromInstance =
  | { type: 'connected'; pid: number }
  /** All breakers bound, in `ms`; `shared`: the store shares state and has caught up. */
  | { type: 'ready'; pid: number; shared: boolean; ms: number }
  | { type: 'counters'; pid: number; counters: InstanceCounters }
  | { type: 'latency'; pid: number; result: LatencyResult }
  | { type: 'stormed'; pid: number; opened: Array<number | null> }
  | { type: 'error'; pid: number; message: string };
