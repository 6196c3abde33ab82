/**
 * The Lua scripts that make a Redis-held circuit's decisions atomic: each one reads the circuit,
 * applies outcomes or a lease, evaluates the trip policy, makes at most the transitions that are
 * due, publishes them, and answers, in one step that no other instance can interleave with. Time is
 * Redis's own (`TIME`), so instances' clocks never disagree about an open period.
 *
 * KEYS: 1 the circuit hash, 2 the probe leases (sorted set, score = expiry), 3 the count-window
 * ring (a string, one byte per call), 4 the time-window buckets (hash), 5 the instances that
 * contributed failures since the circuit last closed (set, for the quorum).
 *
 * The circuit's configuration (`ScriptConfig`, as JSON) lives in its hash, with its fingerprint
 * (fields `cj`, `cf`) and when an instance using it last wrote (`cu`, ms by Redis's clock); it
 * expires with the rest. A call carries only the fingerprint:
 *
 * ARGV: 1 the caller's fingerprint, 2 the caller's configuration JSON or '' (sent only when the
 * circuit asked for it), 3 staleConfigAfter in ms (with 2), 4 a random draw in [0, 1) for the
 * jitter, 5 a custom backoff's period for the next failed probe, computed by the caller (-1: none),
 * 6 an id for the circuit, used only if this call creates it (so a re-created circuit is
 * recognised); 7 and on depend on the script.
 *
 * Before anything else, every script compares fingerprints:
 * - equal: the script runs with the stored configuration;
 * - no configuration stored (a new circuit, keys expired, Redis lost them), and none sent: it
 *   answers `{ 'NOCONFIG' }` and changes nothing; the caller sends again with its configuration;
 * - a different one stored: it answers `{ 'MISMATCH', storedJson, idleMs, state, remainingOpenMs,
 *   failedProbes }` and changes nothing (idleMs: since an instance using the stored one wrote),
 *   unless the caller sent its configuration and the stored one has been idle for
 *   staleConfigAfter: then the caller's replaces it (the trip policy's window starts afresh; the
 *   state, open period and leases stay);
 * - when a configuration is written, it is published: `{ n = name, c = fingerprint, cj = json }`.
 *
 * While an instance shares a circuit, it also marks the configuration used every
 * staleConfigAfter / 4 (`TOUCH`), so that "idle" means no running instance uses it, not no traffic.
 *
 * Every other answer is `{ state, generation, remainingOpenMs, failedProbes, extra1, extra2, id,
 * reason, replaced }`, where `id` identifies this incarnation of the circuit (it changes if the
 * keys expired or Redis lost them, which also restarts the generation count), `reason` is why the
 * last transition happened, and `replaced` the configuration JSON this call replaced ('' if none).
 */

import { TRIP_POLICY_LUA, type TripPolicyName } from '../core/internal.js';

/** The configuration Redis keeps with a circuit, as JSON. Short keys keep it small. */
export interface ScriptConfig {
  /** circuit name */
  nm: string;
  /** pub/sub channel */
  ch: string;
  /** 1: publish by sharded pub/sub (`SPUBLISH`, a Cluster's shard channel); absent: `PUBLISH` */
  sp?: 1;
  /** policy kind */
  k: TripPolicyName;
  /** failureThreshold */
  t: number;
  /** windowSize */
  n: number;
  /** minimumCalls */
  m: number;
  /** failureRateThreshold */
  r: number;
  /** windowDuration, ms */
  wd: number;
  /** windowBuckets */
  wb: number;
  /** slowCallDuration, ms */
  sd: number;
  /** slowCallRateThreshold */
  sr: number;
  /** quorum: distinct instances whose failures a fleet-wide trip needs */
  q: number;
  /** halfOpenMaxCalls */
  hm: number;
  /** probeExpiry, ms */
  pe: number;
  /** openDuration, ms */
  od: number;
  /** backoff multiplier (0: no backoff, or a custom one) */
  mu: number;
  /** backoff maxDuration, ms */
  mx: number;
  /** backoff jitter */
  ji: number;
  /** 1: a custom backoff function (its periods come with each call, ARGV 5) */
  cb: number;
  /** key time-to-live, ms */
  ttl: number;
}

const PRELUDE = `
local H, L, R, B, S = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rnd, cn, nid = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local cfg, replaced

local function load()
  local v = redis.call('HMGET', H, 's', 'g', 'ou', 'fp', 'c', 'ps', 'wn', 'wf', 'ws', 'wi', 'wh', 'id', 'r')
  if not v[1] then
    return { s = 'CLOSED', g = 0, ou = 0, fp = 0, c = 0, ps = 0, wn = 0, wf = 0, ws = 0, wi = 0, wh = -1, id = nid, r = 'reset' }
  end
  return {
    s = v[1], g = tonumber(v[2]), ou = tonumber(v[3]), fp = tonumber(v[4]), c = tonumber(v[5]),
    ps = tonumber(v[6]), wn = tonumber(v[7]), wf = tonumber(v[8]), ws = tonumber(v[9]),
    wi = tonumber(v[10]), wh = tonumber(v[11]), id = v[12] or nid, r = v[13] or 'remote'
  }
end

local function save(st)
  redis.call('HSET', H, 's', st.s, 'g', st.g, 'ou', st.ou, 'fp', st.fp, 'c', st.c, 'ps', st.ps,
    'wn', st.wn, 'wf', st.wf, 'ws', st.ws, 'wi', st.wi, 'wh', st.wh, 'id', st.id, 'r', st.r,
    'cu', now)
  for _, key in ipairs({ H, L, R, B, S }) do redis.call('PEXPIRE', key, cfg.ttl) end
end

local function reply(st, a, b)
  return { st.s, st.g, math.max(0, st.ou - now), st.fp, a or 0, b or 0, st.id, st.r, replaced }
end

local function period(attempt)
  if attempt > 0 and cn >= 0 then return cn end
  if cfg.mu == 0 then return cfg.od end
  local grown = math.min(cfg.od * cfg.mu ^ math.min(attempt, 64), cfg.mx)
  return math.max(1, math.floor(math.min(cfg.mx, grown * (1 + cfg.ji * (2 * rnd - 1)))))
end

local function move(st, to, reason)
  st.s = to
  st.g = st.g + 1
  st.r = reason
  redis.call(cfg.sp == 1 and 'SPUBLISH' or 'PUBLISH', cfg.ch, cjson.encode({
    n = cfg.nm, s = st.s, g = st.g, rem = math.max(0, st.ou - now), fp = st.fp, r = reason, id = st.id
  }))
end

local function reset_window(st)
  st.c, st.wn, st.wf, st.ws, st.wi, st.wh = 0, 0, 0, 0, 0, -1
  redis.call('DEL', R, B, S)
end

local function open(st, reason, fp)
  st.fp, st.ou, st.ps = fp, now + period(fp), 0
  redis.call('DEL', L)
  move(st, 'OPEN', reason)
end

local function close(st, reason)
  st.fp, st.ou, st.ps = 0, 0, 0
  redis.call('DEL', L)
  reset_window(st)
  move(st, 'CLOSED', reason)
end

-- The transitions that time alone makes due: the open period is over, or a probe's lease expired
-- (its instance crashed or hung: the probe counts as failed).
local function advance(st)
  if st.s == 'OPEN' and now >= st.ou then
    st.ps = 0
    redis.call('DEL', L)
    move(st, 'HALF_OPEN', 'open-period-elapsed')
  elseif st.s == 'HALF_OPEN' then
    if #redis.call('ZRANGEBYSCORE', L, '-inf', now, 'LIMIT', 0, 1) > 0 then
      open(st, 'probe-expired', st.fp + 1)
    end
  end
end

local function quorum()
  return cfg.q <= 1 or redis.call('SCARD', S) >= cfg.q
end

${TRIP_POLICY_LUA}

-- Records one outcome of a call admitted while CLOSED; returns why the policy says the circuit
-- should open, if it does (the caller checks the quorum). O(1) per outcome, O(windowBuckets) when a
-- time window moves to a new bucket. Each policy's branch comes from its descriptor.
local function record(st, failed, slow, source)
  if failed or slow then redis.call('SADD', S, source) end
  return record_policy(st, failed, slow)
end

-- The configuration: the stored one if the caller's fingerprint is its, else see the file's comment.
local stored = redis.call('HMGET', H, 'cf', 'cj', 'cu')
if not stored[2] then stored[1] = false end
-- SPUBLISH (sharded pub/sub) came with Redis 7.0, as REDIS_VERSION_NUM did: refuse before writing.
local function check_pubsub(c)
  if c.sp == 1 and not redis.REDIS_VERSION_NUM then
    return redis.error_reply('sharded pub/sub (SPUBLISH) needs Redis 7.0 or later: set shardedPubSub: false')
  end
end
if stored[1] == ARGV[1] then
  cfg, replaced = cjson.decode(stored[2]), ''
  local refused = check_pubsub(cfg)
  if refused then return refused end
else
  local idle = now - (tonumber(stored[3]) or 0)
  if ARGV[2] == '' or (stored[1] and idle < tonumber(ARGV[3])) then
    if not stored[1] then return { 'NOCONFIG' } end
    local v = redis.call('HMGET', H, 's', 'ou', 'fp')
    return { 'MISMATCH', stored[2], idle, v[1] or 'CLOSED',
      math.max(0, (tonumber(v[2]) or 0) - now), tonumber(v[3]) or 0 }
  end
  cfg, replaced = cjson.decode(ARGV[2]), stored[2] or ''
  local refused = check_pubsub(cfg)
  if refused then return refused end
  redis.call('HSET', H, 'cf', ARGV[1], 'cj', ARGV[2])
  if stored[1] then
    -- Another trip policy (or other parameters): its window starts afresh.
    redis.call('HSET', H, 'c', 0, 'wn', 0, 'wf', 0, 'ws', 0, 'wi', 0, 'wh', -1)
    redis.call('DEL', R, B, S)
  end
  redis.call(cfg.sp == 1 and 'SPUBLISH' or 'PUBLISH', cfg.ch, cjson.encode({ n = cfg.nm, c = ARGV[1], cj = ARGV[2] }))
end
`;

/** Reads the circuit (creating it if absent) after the transitions that are due. No ARGV of its own. */
export const SYNC = `${PRELUDE}
local st = load()
advance(st)
save(st)
return reply(st)
`;

/**
 * Records outcomes of calls admitted while CLOSED, in order, and opens the circuit if the policy
 * says so and the failures come from `quorum` distinct instances. ARGV 7 on: generation the
 * calls were admitted in (-1: before the instance knew the fleet's state; they count if the circuit
 * is CLOSED), instance id, outcomes run-length encoded as "S20000;F1;S3" (see `OutcomeBatch`: S
 * success, F failure; s and f the same from slow calls, under a policy that counts slow calls).
 */
export const RECORD = `${PRELUDE}
local st = load()
local gen = tonumber(ARGV[7])
if (gen == -1 or st.g == gen) and st.s == 'CLOSED' then
  local opened = false
  for kind, count in string.gmatch(ARGV[9], '([SFsf])(%d+)') do
    local failed = kind == 'F' or kind == 'f'
    local slow = policy_counts_slow[cfg.k] == true and (kind == 's' or kind == 'f')
    local n = tonumber(count)
    -- Where a success only resets the count (consecutive), a run of them is one success.
    if policy_collapses_successes[cfg.k] == true and not failed then n = 1 end
    for _ = 1, n do
      local reason = record(st, failed, slow, ARGV[8])
      if reason and quorum() then
        open(st, reason, 0)
        opened = true
        break
      end
    end
    if opened then break end
  end
end
save(st)
return reply(st)
`;

/**
 * Admits a call: in HALF_OPEN, takes a probe lease that expires after probeExpiry, if fewer than
 * halfOpenMaxCalls probes are out. ARGV 7: lease id. Extra answers: admitted (0/1), and when
 * refused in HALF_OPEN, the ms until the earliest lease expires.
 */
export const ACQUIRE = `${PRELUDE}
local st = load()
advance(st)
local admitted, wait = 0, 0
if st.s == 'CLOSED' or st.s == 'DISABLED' then
  admitted = 1
elseif st.s == 'HALF_OPEN' then
  if redis.call('ZCARD', L) + st.ps < cfg.hm then
    redis.call('ZADD', L, now + cfg.pe, ARGV[7])
    admitted = 1
  else
    local first = redis.call('ZRANGE', L, 0, 0, 'WITHSCORES')
    if first[2] then wait = math.max(0, tonumber(first[2]) - now) end
  end
end
save(st)
return reply(st, admitted, wait)
`;

/**
 * Settles a probe. ARGV 7 on: generation, lease id, outcome (S success, F failure, I no verdict:
 * the lease is freed for another probe). Generation -1 with outcome I frees the lease in whatever
 * generation it is: for a lease asked for whose answer was lost (Redis may have granted it after the
 * request timed out). Every transition deletes the leases, so a lease present is of this generation.
 */
export const PROBE = `${PRELUDE}
local st = load()
local gen = tonumber(ARGV[7])
local any = gen == -1 and ARGV[9] == 'I'
if (any or st.g == gen) and st.s == 'HALF_OPEN' then
  advance(st)
  if (any or st.g == gen) and redis.call('ZREM', L, ARGV[8]) == 1 then
    if ARGV[9] == 'S' then
      st.ps = st.ps + 1
      if st.ps >= cfg.hm then close(st, 'probes-succeeded') end
    elseif ARGV[9] == 'F' then
      open(st, 'probe-failed', st.fp + 1)
    end
  end
end
save(st)
return reply(st)
`;

/** A manual transition, fleet-wide. ARGV 7 on: target state, reason. */
export const TRANSITION = `${PRELUDE}
local st = load()
if ARGV[7] == 'CLOSED' then
  close(st, ARGV[8])
elseif st.s ~= ARGV[7] then
  st.ou, st.fp, st.ps = 0, 0, 0
  redis.call('DEL', L)
  move(st, ARGV[7], ARGV[8])
end
save(st)
return reply(st)
`;

/**
 * Marks the circuit's configuration used (field `cu`) if it is the caller's. KEYS: 1 the circuit
 * hash. ARGV: 1 the caller's fingerprint. Answers 1 if it is, else 0. It creates nothing and leaves
 * the keys' expiry as it is: a circuit nobody writes to still expires after keyTtl.
 */
export const TOUCH = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('HGET', KEYS[1], 'cf') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'cu', now)
  return 1
end
return 0
`;
