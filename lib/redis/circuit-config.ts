import { createHash } from 'node:crypto';
import { type CircuitConfig, scriptedOptions, scriptParams } from '../core/internal.js';
import type { ScriptConfig } from './scripts.js';

/**
 * A circuit's configuration as the scripts use it, and its fingerprint. Redis keeps the JSON in the
 * circuit's hash (fields `cf` fingerprint, `cj` JSON), written once; every script call carries only
 * the fingerprint.
 * @internal
 */
export interface SharedConfig {
  readonly config: ScriptConfig;
  /** `config` as JSON, keys in a fixed order: what Redis stores. */
  readonly json: string;
  /** 16 hex digits of the JSON's SHA-256. */
  readonly fingerprint: string;
}

/** @internal What the store contributes to every circuit's configuration. */
export interface StoreConfig {
  /** The channel a circuit's transitions are published on. */
  channelOf(name: string): string;
  /** Whether they are published by sharded pub/sub (`SPUBLISH`). */
  readonly sharded: boolean;
  readonly quorum: number;
  readonly keyTtl: number;
}

/** @internal Builds the shared configuration of the circuit `name`. */
export function sharedConfig(name: string, c: CircuitConfig, store: StoreConfig): SharedConfig {
  const p = c.policy;
  const backoff = typeof c.backoff === 'object' ? c.backoff : undefined;
  // Every field is always present, in this order, so that equal configurations give equal JSON.
  const config: ScriptConfig = {
    nm: name,
    ch: store.channelOf(name),
    // Only with sharded pub/sub, so that other circuits' fingerprints stay what they were.
    ...(store.sharded ? { sp: 1 as const } : {}),
    k: p.kind,
    ...scriptParams(p),
    q: store.quorum,
    hm: c.halfOpenMaxCalls,
    pe: Math.ceil(c.probeExpiry),
    od: c.openDuration,
    mu: backoff?.multiplier ?? 0,
    mx: backoff?.maxDuration ?? c.openDuration,
    ji: backoff?.jitter ?? 0,
    cb: typeof c.backoff === 'function' ? 1 : 0,
    ttl: store.keyTtl,
  };
  const json = JSON.stringify(config);
  const fingerprint = createHash('sha256').update(json).digest('hex').slice(0, 16);
  return { config, json, fingerprint };
}

/** One option on which two configurations of a circuit differ. */
export interface ConfigDifference {
  /** The option, as a breaker (or `RedisStore`) option is named: `failureThreshold`, `quorum`. */
  readonly option: string;
  /** This instance's value; `undefined` when its configuration does not use the option. */
  readonly local: unknown;
  /** The value in the configuration Redis holds; `undefined` when that one does not use it. */
  readonly shared: unknown;
}

/** The options a configuration uses, by name, with their values. */
function options(c: Partial<ScriptConfig>): Map<string, unknown> {
  const out = new Map<string, unknown>([['policy', c.k]]);
  const add = (option: string, value: unknown) => out.set(option, value);
  for (const [option, param] of scriptedOptions(c.k)) add(option, c[param]);
  add('openDuration', c.od);
  if (c.cb === 1) add('backoff', 'a function');
  else if (typeof c.mu === 'number' && c.mu > 0) {
    add('backoff.multiplier', c.mu);
    add('backoff.maxDuration', c.mx);
    add('backoff.jitter', c.ji);
  } else add('backoff', 'none');
  add('halfOpenMaxCalls', c.hm);
  add('probeExpiry', c.pe);
  add('quorum', c.q);
  add('keyTtl', c.ttl);
  return out;
}

/**
 * @internal The options on which `local` and `shared` differ, in a fixed order. `shared` is the
 * JSON Redis holds (from any version of this package: unknown fields are ignored).
 */
export function configDifferences(
  local: ScriptConfig,
  shared: Partial<ScriptConfig>,
): ConfigDifference[] {
  const mine = options(local);
  const theirs = options(shared);
  const differences: ConfigDifference[] = [];
  for (const option of new Set([...mine.keys(), ...theirs.keys()])) {
    const a = mine.get(option);
    const b = theirs.get(option);
    if (a !== b) differences.push({ option, local: a, shared: b });
  }
  return differences;
}

/** @internal Parses the configuration JSON Redis holds; `{}` if it is not an object. */
export function parseSharedConfig(json: string): Partial<ScriptConfig> {
  try {
    const parsed: unknown = JSON.parse(json);
    return parsed !== null && typeof parsed === 'object' ? (parsed as Partial<ScriptConfig>) : {};
  } catch {
    return {};
  }
}

/** @internal `failureThreshold: 10 here, 5 in Redis; windowSize: unused here, 100 in Redis`. */
export function describeDifferences(
  differences: readonly ConfigDifference[],
  here = 'here',
  there = 'in Redis',
): string {
  const show = (v: unknown) =>
    v === undefined ? 'unused' : typeof v === 'string' ? v : JSON.stringify(v);
  return differences
    .map((d) => `${d.option}: ${show(d.local)} ${here}, ${show(d.shared)} ${there}`)
    .join('; ');
}
