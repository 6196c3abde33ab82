/**
 * What the cost-at-scale bench reads from Redis itself: `INFO commandstats` and `INFO cpu` (taken
 * as deltas), the keys of a prefix (`SCAN`, then `PTTL` and `MEMORY USAGE` of each), and, during
 * the storm, the limits a Redis can hit with many subscribers: the pub/sub clients' output buffers
 * (`CLIENT LIST TYPE pubsub`, sampled, against `client-output-buffer-limit pubsub`), connections
 * dropped or refused, `LATENCY LATEST` and the slow log.
 */
import type { Redis } from 'ioredis';

/** Commands the bench itself sends to Redis to measure: not the stores' cost. */
const OWN = /^(info|client|memory|scan|pttl|latency|slowlog|config|flushall|dbsize|pubsub)/;

export interface CommandCounts {
  /** Every command the stores sent or their scripts ran (the bench's own excluded). */
  readonly all: number;
  /** Script calls: EVALSHA and EVAL. */
  readonly scripts: number;
  /**
   * Script calls that saved a circuit (each saves once, with five PEXPIREs): record, sync,
   * acquire, probe, transition. The other script calls are TOUCH (marks a configuration used).
   */
  readonly saves: number;
  readonly publishes: number;
  /** Redis's CPU (user + system, every thread), in ms. */
  readonly cpuMs: number;
  /** Bytes Redis has written to its clients (replies and pub/sub messages). */
  readonly outputBytes: number;
}

function fields(info: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of info.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) map.set(line.slice(0, at), line.slice(at + 1));
  }
  return map;
}

export async function counts(client: Redis): Promise<CommandCounts> {
  const [stats, cpu, net] = await Promise.all([
    client.info('commandstats'),
    client.info('cpu'),
    client.info('stats'),
  ]);
  const calls = new Map<string, number>();
  for (const m of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    calls.set(m[1]!, Number(m[2]));
  }
  let all = 0;
  for (const [name, n] of calls) if (!OWN.test(name)) all += n;
  const c = fields(cpu);
  const num = (map: Map<string, string>, key: string) => Number(map.get(key) ?? 0);
  return {
    all,
    scripts: (calls.get('evalsha') ?? 0) + (calls.get('eval') ?? 0),
    saves: (calls.get('pexpire') ?? 0) / 5,
    publishes: calls.get('publish') ?? 0,
    cpuMs: (num(c, 'used_cpu_sys') + num(c, 'used_cpu_user')) * 1_000,
    outputBytes: num(fields(net), 'total_net_output_bytes'),
  };
}

export function minus(a: CommandCounts, b: CommandCounts): CommandCounts {
  return {
    all: a.all - b.all,
    scripts: a.scripts - b.scripts,
    saves: a.saves - b.saves,
    publishes: a.publishes - b.publishes,
    cpuMs: a.cpuMs - b.cpuMs,
    outputBytes: a.outputBytes - b.outputBytes,
  };
}

export async function usedMemory(client: Redis): Promise<number> {
  return Number(fields(await client.info('memory')).get('used_memory'));
}

export interface KeyReport {
  readonly keys: number;
  /** Keys of the prefix with no expiry (`PTTL` -1): the store promises none. */
  readonly withoutTtl: number;
  /** The longest time to live left, in ms. */
  readonly maxTtl: number;
  /** `MEMORY USAGE` of every key, summed, in bytes. */
  readonly bytes: number;
  /** Keys by kind: the circuit hash, `leases`, `ring`, `buckets`, `sources`. */
  readonly kinds: Record<string, number>;
}

/** Every key of `prefix`: its expiry and its memory. */
export async function keyReport(client: Redis, prefix: string): Promise<KeyReport> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  let withoutTtl = 0;
  let maxTtl = -Infinity;
  let bytes = 0;
  const kinds: Record<string, number> = {};
  for (let i = 0; i < keys.length; i += 1_000) {
    const chunk = keys.slice(i, i + 1_000);
    const pipeline = client.pipeline();
    for (const key of chunk) pipeline.pttl(key).memory('USAGE', key, 'SAMPLES', '0');
    const answers = (await pipeline.exec()) ?? [];
    chunk.forEach((key, k) => {
      const ttl = Number(answers[2 * k]?.[1]);
      if (ttl === -1) withoutTtl++;
      maxTtl = Math.max(maxTtl, ttl);
      bytes += Number(answers[2 * k + 1]?.[1] ?? 0);
      const kind = /\}:(\w+)$/.exec(key)?.[1] ?? 'hash';
      kinds[kind] = (kinds[kind] ?? 0) + 1;
    });
  }
  return { keys: keys.length, withoutTtl, maxTtl, bytes, kinds };
}

/** What a storm did to Redis's limits (see the file's comment). */
export interface Limits {
  /** The largest output buffer a pub/sub client had at any sample, in bytes. */
  readonly maxPubsubBuffer: number;
  /** `client-output-buffer-limit pubsub`: hard limit, soft limit, soft seconds. */
  readonly pubsubLimit: string;
  /** The most `instantaneous_ops_per_sec` at any sample. */
  readonly maxOpsPerSec: number;
  /** Connections Redis accepted (a client that reconnected) or refused during the storm. */
  readonly newConnections: number;
  readonly rejectedConnections: number;
  /** Clients connected at the end minus at the start. */
  readonly clientsChange: number;
  /** `LATENCY LATEST` (threshold 1 ms): the worst event's name and ms, or 'none'. */
  readonly latency: string;
  /** Slow-log entries added (commands over `slowlog-log-slower-than`, 10 ms by default). */
  readonly slowCommands: number;
  readonly samples: number;
}

/** Samples Redis every `everyMs` until `stop()`; with `prepare()` called before the storm. */
export class LimitWatch {
  private maxBuffer = 0;
  private maxOps = 0;
  private samples = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private sampling: Promise<void> = Promise.resolve();
  private before: { stats: Map<string, string>; clients: number; slow: number } | undefined;

  constructor(private readonly client: Redis) {}

  async prepare(everyMs: number): Promise<void> {
    await this.client.config('SET', 'latency-monitor-threshold', '1');
    await this.client.latency('RESET');
    const [stats, clients, slow] = await Promise.all([
      this.client.info('stats'),
      this.client.info('clients'),
      this.client.slowlog('LEN'),
    ]);
    this.before = {
      stats: fields(stats),
      clients: Number(fields(clients).get('connected_clients')),
      slow: Number(slow),
    };
    this.timer = setInterval(() => {
      this.sampling = this.sampling.then(() => this.sample()).catch(() => undefined);
    }, everyMs);
  }

  private async sample(): Promise<void> {
    const [list, stats] = await Promise.all([
      this.client.call('CLIENT', 'LIST', 'TYPE', 'pubsub') as Promise<string>,
      this.client.info('stats'),
    ]);
    for (const m of list.matchAll(/\bomem=(\d+)/g)) {
      this.maxBuffer = Math.max(this.maxBuffer, Number(m[1]));
    }
    this.maxOps = Math.max(this.maxOps, Number(fields(stats).get('instantaneous_ops_per_sec')));
    this.samples++;
  }

  async stop(): Promise<Limits> {
    clearInterval(this.timer);
    await this.sampling;
    const before = this.before!;
    const [stats, clients, slow, latest, limit] = await Promise.all([
      this.client.info('stats'),
      this.client.info('clients'),
      this.client.slowlog('LEN'),
      this.client.latency('LATEST') as Promise<Array<[string, number, number, number]>>,
      this.client.config('GET', 'client-output-buffer-limit') as Promise<string[]>,
    ]);
    const after = fields(stats);
    const diff = (key: string) => Number(after.get(key)) - Number(before.stats.get(key));
    const worst = latest.reduce<[string, number] | undefined>(
      (w, [name, , , most]) => (w === undefined || most > w[1] ? [name, most] : w),
      undefined,
    );
    return {
      maxPubsubBuffer: this.maxBuffer,
      pubsubLimit: /pubsub (\d+ \d+ \d+)/.exec(limit[1] ?? '')?.[1] ?? '?',
      maxOpsPerSec: this.maxOps,
      newConnections: diff('total_connections_received'),
      rejectedConnections: diff('rejected_connections'),
      clientsChange: Number(fields(clients).get('connected_clients')) - before.clients,
      latency: worst === undefined ? 'none' : `${worst[0]} ${worst[1]} ms`,
      slowCommands: Number(slow) - before.slow,
      samples: this.samples,
    };
  }
}
