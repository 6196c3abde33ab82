import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { Breaker, ManualClock, isCircuitOpenError } from '../../lib/core/index.js';
import { outcome } from './helpers/async.js';

/**
 * What the fast paths of `execute` (callbacks chained on the call's promise, errors delivered
 * without a throw) must keep: see the "perf(core)" commits and bench/.
 */
describe('Breaker: the fast paths of execute', () => {
  it('a CLOSED or DISABLED breaker on a count policy reads no clock per call or per state read', async () => {
    // The bench's CLOSED case: only time-based policies (and timed calls) read the clock per call.
    const manual = new ManualClock();
    let reads = 0;
    const clock = {
      now: (): number => {
        reads++;
        return manual.now();
      },
      setTimeout: manual.setTimeout.bind(manual),
      clearTimeout: manual.clearTimeout.bind(manual),
    };
    for (const policy of ['consecutive', 'count-window'] as const) {
      const b = new Breaker({ name: policy, clock, policy });
      // A listener that needs no duration (only success, failure and ignored events carry one)
      // leaves calls untimed.
      b.onStateChange(() => undefined);
      b.onRejection(() => undefined);
      const before = reads;
      for (let i = 0; i < 5; i++) {
        await b.execute(async () => i);
        b.executeSync(() => i);
        expect(b.state).toBe('CLOSED');
      }
      expect(reads - before).toBe(0);
      b.disable(); // DISABLED passes every call: no clock either
      const disabled = reads;
      for (let i = 0; i < 3; i++) await b.execute(async () => i);
      expect(b.state).toBe('DISABLED');
      expect(reads - disabled).toBe(0);
      b.dispose();
    }
  });

  it('counts the outcome before the caller resumes', async () => {
    const b = new Breaker({ name: 'svc', clock: new ManualClock() });
    await b.execute(async () => 1);
    expect(b.stats()).toMatchObject({ calls: 1, successes: 1, inFlight: 0 });
    await outcome(b.execute(() => Promise.reject(new Error('down'))));
    expect(b.stats()).toMatchObject({ calls: 2, failures: 1, inFlight: 0 });
  });

  it('never throws synchronously: failures, refusals and throwing fallbacks all reject', async () => {
    const b = new Breaker({ name: 'svc', clock: new ManualClock(), failureThreshold: 1 });
    const error = new Error('down');
    const throwing = (): never => {
      throw error;
    };
    const failed = b.execute(throwing);
    await expect(failed).rejects.toBe(error);
    const refused = await outcome(b.execute(async () => 1));
    expect(!refused.ok && isCircuitOpenError(refused.error)).toBe(true);
    const fallbackError = new Error('fallback down');
    const answered = b.execute(async () => 1, {
      fallback: () => {
        throw fallbackError;
      },
    });
    await expect(answered).rejects.toBe(fallbackError);
  });

  it('a failure or refusal nobody handles is still reported as an unhandled rejection', () => {
    const fixture = fileURLToPath(new URL('./fixtures/unhandled-rejections.ts', import.meta.url));
    const output = execFileSync(process.execPath, ['--import', 'tsx', fixture], {
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    expect(JSON.parse(output)).toEqual({ count: 2, failure: true, refusal: true });
  });

  it('a call admitted before a transition keeps its own generation', async () => {
    const clock = new ManualClock();
    const b = new Breaker({ name: 'svc', clock, failureThreshold: 1, openDuration: 1_000 });
    let releaseOld!: () => void;
    const old = b.execute(() => new Promise<void>((resolve) => (releaseOld = resolve)));
    await outcome(b.execute(() => Promise.reject(new Error('down'))));
    clock.advance(1_000);
    let releaseProbe!: () => void;
    const probe = b.execute(() => new Promise<void>((resolve) => (releaseProbe = resolve)));
    expect(b.state).toBe('HALF_OPEN');
    releaseOld();
    await old;
    // Admitted while CLOSED, two generations ago: counted, but it does not close the circuit.
    expect(b.state).toBe('HALF_OPEN');
    expect(b.stats()).toMatchObject({ successes: 1, failures: 1, inFlight: 1 });
    releaseProbe();
    await probe;
    expect(b.state).toBe('CLOSED');
  });
});
