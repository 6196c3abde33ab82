/**
 * The record script, held to its reference: the scripts as they were before outcomes were sent
 * run-length encoded (fixtures/scripts-reference.ts). Both run the same random batches of outcomes
 * (every policy, quorum 1 and 2, three instances, stale generations, resets after each trip) on
 * their own keys of one redis-server, with the same clock: the test replaces `TIME` in both with a
 * key it sets, so that the time window's buckets move exactly alike. After every batch, the answers
 * and everything stored (the circuit's hash, the ring, the buckets, the instances) must be equal,
 * except for what the reference does not have: the configuration the current scripts keep in the
 * hash (fields cf, cj, cu) and the answer's last element (the configuration a call replaced).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { OutcomeBatch } from '../../lib/redis/outcome-batch.js';
import { RECORD, TRANSITION, type ScriptConfig } from '../../lib/redis/scripts.js';
import { seededRandom } from '../core/helpers/async.js';
import * as reference from './fixtures/scripts-reference.js';
import { startRedis, type TestRedis } from './helpers/redis-server.js';

const REDIS_TIME = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;
const TEST_TIME = `local now = tonumber(redis.call('GET', KEYS[1] .. ':now') or '0')`;

function withTestClock(lua: string): string {
  if (!lua.includes(REDIS_TIME)) throw new Error('the scripts no longer read TIME this way');
  return lua.replace(REDIS_TIME, TEST_TIME);
}

type Script = (...args: (string | number)[]) => Promise<unknown>;
type Client = Redis & Record<'refRecord' | 'newRecord' | 'refReset' | 'newReset', Script>;

let redis: TestRedis;
let client: Client;

beforeAll(async () => {
  redis = await startRedis();
  client = redis.client() as Client;
  for (const [name, lua] of [
    ['refRecord', reference.RECORD],
    ['newRecord', RECORD],
    ['refReset', reference.TRANSITION],
    ['newReset', TRANSITION],
  ] as const) {
    client.defineCommand(name, { numberOfKeys: 5, lua: withTestClock(lua) });
  }
}, 30_000);

afterAll(async () => {
  await redis?.stop();
});

function keys(prefix: string): string[] {
  return [prefix, `${prefix}:leases`, `${prefix}:ring`, `${prefix}:buckets`, `${prefix}:sources`];
}

/** The configuration fields of the current scripts, which the reference does not write. */
const CONFIG_FIELDS = ['cf', 'cj', 'cu'];

async function stored(prefix: string): Promise<unknown> {
  const [h, l, r, b, s] = keys(prefix);
  const hash = await client.hgetall(h!);
  for (const field of CONFIG_FIELDS) delete hash[field];
  return {
    hash,
    leases: await client.zrange(l!, '0', '-1'),
    ring: await client.get(r!),
    buckets: await client.hgetall(b!),
    sources: (await client.smembers(s!)).sort(),
  };
}

type Policy = ScriptConfig['k'];
const POLICIES: Policy[] = ['consecutive', 'count-window', 'time-window', 'slow-call'];

function config(policy: Policy, quorum: number): ScriptConfig {
  return {
    nm: `record-${policy}`,
    ch: 'record-script-test',
    k: policy,
    t: policy === 'consecutive' ? 5 : 0,
    n: policy === 'count-window' || policy === 'slow-call' ? 20 : 0,
    m: policy === 'consecutive' ? 0 : 6,
    r: policy === 'consecutive' ? 0 : 0.5,
    wd: policy === 'time-window' ? 1_000 : 0,
    wb: policy === 'time-window' ? 5 : 0,
    sd: policy === 'slow-call' ? 10 : 0,
    sr: policy === 'slow-call' ? 0.6 : 0,
    q: quorum,
    hm: 1,
    pe: 60_000,
    od: 30_000,
    mu: 0,
    mx: 30_000,
    ji: 0,
    cb: 0,
    ttl: 600_000,
  };
}

/** The reference scripts' ARGV[1]: the configuration with the per-call fields. */
function referenceConfig(policy: Policy, quorum: number): string {
  return JSON.stringify({ ...config(policy, quorum), rnd: 0, cn: -1, nid: 'circuit-id' });
}

/**
 * The current scripts' ARGV 1 to 6: fingerprint, the configuration (always sent here: it is used
 * only to create the circuit), staleConfigAfter, random draw, custom backoff period, new id.
 */
function currentHead(policy: Policy, quorum: number): Array<string | number> {
  return [
    `fp-${policy}-${quorum}`,
    JSON.stringify(config(policy, quorum)),
    60_000,
    0,
    -1,
    'circuit-id',
  ];
}

/** The answer of a current script, as the reference answers, after checking the extra element. */
function asReference(answer: unknown): unknown {
  const list = answer as unknown[];
  expect(list[8]).toBe('');
  return list.slice(0, 8);
}

describe('record script', () => {
  it('encodes runs of outcomes in order', () => {
    const batch = new OutcomeBatch(undefined, true);
    for (const failed of [false, false, false, true, false, false]) batch.add(failed, NaN);
    expect(batch.encode()).toBe('S3;F1;S2');
    expect([batch.outcomes, batch.failures, batch.work]).toEqual([6, 1, 3]);
    const slow = new OutcomeBatch(10, false);
    for (const [failed, ms] of [
      [false, 9.4],
      [false, 9.5],
      [true, 12],
      [true, NaN],
      [false, 3],
    ] as const) {
      slow.add(failed, ms);
    }
    expect(slow.encode()).toBe('S1;s1;f1;F1;S1');
    expect(slow.work).toBe(5);
    slow.clear();
    expect([slow.encode(), slow.outcomes, slow.failures, slow.work]).toEqual(['', 0, 0, 0]);
  });

  for (const policy of POLICIES) {
    for (const quorum of [1, 2]) {
      it(`agrees with the reference scripts: ${policy}, quorum ${quorum}`, async () => {
        const random = seededRandom(POLICIES.indexOf(policy) * 10 + quorum);
        const cfg = referenceConfig(policy, quorum);
        const head = currentHead(policy, quorum);
        const ref = `ref:${policy}:${quorum}`;
        const cur = `cur:${policy}:${quorum}`;
        let now = 1_000_000;
        let trips = 0;
        // Phases of mostly-passing and mostly-failing traffic, so that circuits trip and reset.
        let failureRate = 0.1;
        for (let step = 0; step < 300; step++) {
          if (step % 25 === 0) failureRate = random() < 0.5 ? 0.05 : 0.7;
          now += Math.floor(random() * 300);
          await client.set(`${ref}:now`, now);
          await client.set(`${cur}:now`, now);

          const size =
            random() < 0.2 ? 200 + Math.floor(random() * 400) : 1 + Math.floor(random() * 30);
          const tokens: string[] = [];
          const batch = new OutcomeBatch(
            policy === 'slow-call' ? 10 : undefined,
            policy === 'consecutive',
          );
          for (let i = 0; i < size; i++) {
            const failed = random() < failureRate;
            const roll = random();
            const duration = roll < 0.05 ? NaN : roll * 20;
            tokens.push(`${failed ? 'F' : 'S'}${duration === duration ? Math.round(duration) : 0}`);
            batch.add(failed, duration);
          }
          const generation = Number((await client.hget(ref, 'g')) ?? 0);
          const roll = random();
          const gen = roll < 0.1 ? -1 : roll < 0.15 ? generation - 1 : generation;
          const source = `instance-${Math.floor(random() * 3)}`;

          const expected = await client.refRecord(...keys(ref), cfg, gen, source, tokens.join(';'));
          const actual = await client.newRecord(...keys(cur), ...head, gen, source, batch.encode());
          expect(asReference(actual)).toEqual(expected);
          expect(await stored(cur)).toEqual(await stored(ref));

          if ((expected as string[])[0] === 'OPEN') {
            trips++;
            expect(
              asReference(await client.newReset(...keys(cur), ...head, 'CLOSED', 'reset')),
            ).toEqual(await client.refReset(...keys(ref), cfg, 'CLOSED', 'reset'));
          }
        }
        // The comparison is only worth something if the circuits did trip.
        expect(trips).toBeGreaterThan(3);
      });
    }
  }
});
