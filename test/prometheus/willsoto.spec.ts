import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

describe('with @willsoto/nestjs-prometheus', () => {
  // A child process, because the module is CommonJS requiring NestJS 12 (ESM only): Node allows it,
  // Jest's loader on Node 20 does not (see fixture/willsoto-app.ts).
  it("serves the breakers' metrics on its /metrics endpoint", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(root, 'test/prometheus/fixture/willsoto-app.ts')],
      { cwd: root, timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } },
    );
    expect(stdout).toMatch(/^status 200\n/);
    expect(stdout).toContain('circuitbreaker_state{name="inventory",state="closed"} 1');
    expect(stdout).toContain('circuitbreaker_state{name="inventory",state="open"} 0');
    expect(stdout).toContain(
      'circuitbreaker_calls_seconds_sum{name="inventory",kind="successful"} 0.075',
    );
  });
});
