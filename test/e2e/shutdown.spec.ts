/**
 * `app.close()` with calls in flight. The documented order: Nest stops the HTTP server and waits
 * for the requests it is serving, then the registry disposes every breaker
 * (`onApplicationShutdown`). Calls already running finish undisturbed and are counted; calls that
 * were waiting for a bulkhead slot or a half-open verdict, and calls made after close, fail with
 * `BreakerDisposedError`. Nothing is left behind: no timer, no handle, the process exits by itself.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  BreakerDisposedError,
  CircuitBreakerRegistry,
  isBreakerDisposedError,
  ManualClock,
} from '../../lib/index.js';
import { adapterFor, PLATFORMS, type Platform } from './fixture/app.factory.js';
import { Dependency } from './fixture/dependency.js';
import {
  activeTimeouts,
  closeWithRequestsInFlight,
  createShutdownModule,
  IN_FLIGHT,
  SlowService,
  waitFor,
} from './fixture/shutdown.js';

/** How long the child process may take to boot, close and exit: a deadline, not a measurement. */
const CHILD_DEADLINE_MS = 30_000;

let compiled: string | undefined;

/** Compiles the child's script with tsc (it needs decorator metadata, which tsx does not emit). */
function compiledChildScript(): string {
  if (compiled === undefined) {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const config = fileURLToPath(new URL('./fixture/tsconfig.shutdown.json', import.meta.url));
    execFileSync(process.execPath, [tsc, '-p', config], { stdio: 'inherit' });
    compiled = fileURLToPath(
      new URL('../../dist-e2e/test/e2e/fixture/shutdown-main.js', import.meta.url),
    );
  }
  return compiled;
}

/** Resolves with the child's exit code once it exits by itself, or `'deadline'` (and kills it). */
function exitOf(child: ChildProcess, ms: number): Promise<number | string | null> {
  return new Promise((resolve) => {
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('deadline');
    }, ms);
    child.once('exit', (code, signal) => {
      clearTimeout(deadline);
      resolve(signal ?? code);
    });
  });
}

function outputOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    let output = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => (output += chunk));
    child.stdout!.on('end', () => resolve(output));
  });
}

/**
 * Waits until no more `Timeout` handles are alive than before the test. The count is
 * process-wide, so a timer of Jest's or Node's own may still be finishing: the deadline is far
 * shorter than any timer of the application (a call's timeout is a minute), which would fail it.
 */
async function noTimerLeft(before: number): Promise<void> {
  await waitFor(
    () => activeTimeouts() <= before,
    `no more than ${before} timers are active`,
    2_000,
  );
}

const disposedMessage = (name: string) => `Circuit breaker "${name}" has been disposed`;

describe.each(PLATFORMS)('shutdown on %s', (platform: Platform) => {
  it(`app.close() with ${IN_FLIGHT} requests in flight: the server stops taking connections, every request gets its own result, then the breakers are disposed; no timer is left; a second close() is harmless`, async () => {
    const timeoutsBefore = activeTimeouts();
    const moduleRef = await Test.createTestingModule({
      imports: [createShutdownModule()],
    }).compile();
    const app = moduleRef.createNestApplication(adapterFor(platform), { logger: false });
    await app.listen(0, '127.0.0.1');

    const report = await closeWithRequestsInFlight(app);

    expect(report).toMatchObject({
      answeredWithResult: IN_FLIGHT,
      otherAnswers: [],
      // Draining: no new connection is accepted, and the breakers still serve the requests.
      whileDraining: { listening: false, breakersDisposed: false },
      newRequestWhileDraining: 'ECONNREFUSED',
      disposed: true,
      lateCall: `BreakerDisposedError: ${disposedMessage('slow')}`,
      secondClose: 'resolved',
    });
    expect(report.stats).toMatchObject({ calls: IN_FLIGHT, successes: IN_FLIGHT, inFlight: 0 });
    await noTimerLeft(timeoutsBefore);
  });

  it(`in a process of its own: closes with ${IN_FLIGHT} requests in flight, then exits by itself with code 0`, async () => {
    const child = spawn(process.execPath, [compiledChildScript(), platform], {
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const output = outputOf(child);
    expect(await exitOf(child, CHILD_DEADLINE_MS)).toBe(0);
    const report = JSON.parse(await output) as Record<string, unknown>;
    expect(report).toMatchObject({
      platform,
      answeredWithResult: IN_FLIGHT,
      otherAnswers: [],
      whileDraining: { listening: false, breakersDisposed: false },
      disposed: true,
      stats: { calls: IN_FLIGHT, successes: IN_FLIGHT, inFlight: 0 },
      lateCall: `BreakerDisposedError: ${disposedMessage('slow')}`,
      secondClose: 'resolved',
      activeTimeouts: 0,
    });
  }, 60_000);
});

describe('shutdown with calls in flight outside HTTP', () => {
  let context: INestApplicationContext | undefined;

  afterEach(async () => {
    context?.get(Dependency).release();
    await context?.close();
    context = undefined;
  });

  async function start(clock?: ManualClock) {
    const moduleRef = await Test.createTestingModule({
      imports: [createShutdownModule(clock)],
    }).compile();
    context = await moduleRef.init();
    return {
      service: context.get(SlowService),
      dependency: context.get(Dependency),
      registry: context.get(CircuitBreakerRegistry),
    };
  }

  it(`close() does not wait for ${IN_FLIGHT} direct calls: they finish undisturbed with their results, counted on the disposed breaker, and their timers go with them`, async () => {
    const timeoutsBefore = activeTimeouts();
    const { service, dependency, registry } = await start();
    const calls = Array.from({ length: IN_FLIGHT }, (_, i) => service.slow(String(i)));
    await waitFor(() => dependency.pending === IN_FLIGHT, 'every call reaches the dependency');
    // Each call in flight holds its timeout's timer (the system clock): the check below can fail.
    expect(activeTimeouts()).toBeGreaterThanOrEqual(timeoutsBefore + IN_FLIGHT);

    await context!.close();
    const breaker = registry.get('slow');
    expect(breaker.isDisposed).toBe(true);
    expect(breaker.stats()).toMatchObject({ inFlight: IN_FLIGHT, calls: 0 });
    await expect(service.slow('after-close')).rejects.toThrow(BreakerDisposedError);
    await expect(service.slow('after-close')).rejects.toThrow(disposedMessage('slow'));

    dependency.release();
    expect(await Promise.all(calls)).toEqual(
      Array.from({ length: IN_FLIGHT }, (_, i) => `slow:${i}`),
    );
    expect(breaker.stats()).toMatchObject({
      calls: IN_FLIGHT,
      successes: IN_FLIGHT,
      inFlight: 0,
    });
    await noTimerLeft(timeoutsBefore);
    await expect(context!.close()).resolves.toBeUndefined();
    context = undefined;
  });

  it('calls queued behind a full bulkhead, or waiting for a half-open verdict, fail at once with BreakerDisposedError; the running ones finish with their results', async () => {
    const clock = new ManualClock();
    const { service, dependency, registry } = await start(clock);

    // One call runs, the others queue for the bulkhead's single slot.
    const queued = Array.from({ length: IN_FLIGHT / 2 }, (_, i) =>
      service.oneAtATime(String(i)).then(
        (value) => value,
        (error: unknown) => error,
      ),
    );
    // The verdict breaker opens, goes half-open: one probe runs, the others wait for its verdict.
    dependency.healthy = false;
    await expect(service.verdict('trip')).rejects.toThrow('dependency down');
    dependency.healthy = true;
    clock.advance(1_000);
    const waiting = Array.from({ length: IN_FLIGHT / 2 }, (_, i) =>
      service.verdict(String(i)).then(
        (value) => value,
        (error: unknown) => error,
      ),
    );
    await waitFor(() => dependency.pending === 2, 'one call of each breaker runs');
    expect(registry.get('one-at-a-time').stats()).toMatchObject({
      inFlight: 1,
      queued: IN_FLIGHT / 2 - 1,
    });
    // Timers (on the manual clock): the two running calls' timeouts, and each half-open wait.
    expect(clock.pendingTimers).toBe(2 + IN_FLIGHT / 2 - 1);

    await context!.close();
    context = undefined;
    // The half-open waits are over, with their timers; the running calls keep theirs.
    expect(clock.pendingTimers).toBe(2);
    dependency.release();
    const [first, ...rest] = await Promise.all(queued);
    const [probe, ...others] = await Promise.all(waiting);
    expect(clock.pendingTimers).toBe(0);
    expect(first).toBe('one:0');
    expect(probe).toBe('verdict:0');
    for (const [name, refused] of [
      ['one-at-a-time', rest],
      ['verdict', others],
    ] as const) {
      expect(refused).toHaveLength(IN_FLIGHT / 2 - 1);
      for (const error of refused) {
        expect(isBreakerDisposedError(error)).toBe(true);
        expect((error as Error).message).toBe(disposedMessage(name));
      }
      const stats = registry.get(name).stats();
      expect(stats.inFlight).toBe(0);
      expect(stats.calls).toBe(stats.successes + stats.failures + stats.rejections);
    }
  });
});
