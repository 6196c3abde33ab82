import {
  type TestRedis,
  redisServerAvailable,
  startRedis,
} from '../test/redis/helpers/redis-server.js';

/**
 * The Redis a benchmark case runs against: a `redis-server` it starts on a free loopback port, or
 * `REDIS_URL`. Without either, or when it does not start, the reason to report the case skipped.
 */
export async function startBenchRedis(): Promise<TestRedis | { skipped: string }> {
  if (!redisServerAvailable() && !process.env.REDIS_URL) {
    return { skipped: 'skipped: no redis-server and no REDIS_URL' };
  }
  try {
    return await startRedis();
  } catch (error) {
    return { skipped: `skipped: Redis did not start (${(error as Error).message})` };
  }
}
