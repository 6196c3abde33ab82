import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import ts from 'typescript';
import * as errors from '../../lib/core/errors.js';

type ErrorsModule = typeof errors;

/** Loads an independent copy of lib/core/errors.ts, as a second installed package would be. */
async function loadCopy(): Promise<ErrorsModule> {
  const source = readFileSync(new URL('../../lib/core/errors.ts', import.meta.url), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
  });
  const dir = mkdtempSync(join(tmpdir(), 'cb-copy-'));
  const file = join(dir, 'errors.mjs');
  writeFileSync(file, outputText);
  return (await import(pathToFileURL(file).href)) as ErrorsModule;
}

describe('errors', () => {
  it('guards recognise errors from another copy of the package, where instanceof fails', async () => {
    const copy = await loadCopy();
    expect(copy.CircuitOpenError).not.toBe(errors.CircuitOpenError);
    const foreign = new copy.CircuitOpenError('db', 'OPEN', 10);
    expect(foreign instanceof errors.CircuitOpenError).toBe(false);
    expect(errors.isCircuitOpenError(foreign)).toBe(true);
    expect(errors.isRejection(foreign)).toBe(true);
    expect(errors.isBulkheadRejectedError(new copy.BulkheadRejectedError('db', 1, 0))).toBe(true);
    expect(errors.isCallTimeoutError(new copy.CallTimeoutError('db', 5))).toBe(true);
    expect(errors.isBreakerDisposedError(new copy.BreakerDisposedError('db'))).toBe(true);
    expect(errors.isBreakerOptionsError(new copy.BreakerOptionsError('db', 'x', 'y', 'z'))).toBe(
      true,
    );
  });

  it('guards tell the kinds apart and reject look-alikes', () => {
    const open = new errors.CircuitOpenError('db', 'OPEN', 10);
    expect(errors.isBulkheadRejectedError(open)).toBe(false);
    expect(errors.isCallTimeoutError(open)).toBe(false);
    for (const value of [
      null,
      undefined,
      'CircuitOpenError',
      1,
      new Error('x'),
      { name: 'CircuitOpenError' },
    ]) {
      expect(errors.isCircuitOpenError(value)).toBe(false);
    }
  });

  it('every error has its name, a message naming the breaker, and its fields', () => {
    const cases: Array<[Error, string, string]> = [
      [
        new errors.CircuitOpenError('db', 'HALF_OPEN', 0),
        'CircuitOpenError',
        'Circuit breaker "db" is half-open and all probe calls are taken',
      ],
      [
        new errors.CircuitOpenError('db', 'FORCED_OPEN', undefined),
        'CircuitOpenError',
        'Circuit breaker "db" is isolated (forced open) until it is reset',
      ],
      [
        new errors.BreakerDisposedError('db'),
        'BreakerDisposedError',
        'Circuit breaker "db" has been disposed',
      ],
      [
        new errors.BreakerOptionsError('db', 'timeout', 'a number', '"x" (string)'),
        'BreakerOptionsError',
        'Circuit breaker "db": option "timeout" must be a number, received "x" (string)',
      ],
    ];
    for (const [error, name, message] of cases) {
      expect(error.name).toBe(name);
      expect(error.message).toBe(message);
      expect(error).toBeInstanceOf(Error);
      expect(String(error)).toBe(`${name}: ${message}`);
    }
  });

  it('createCircuitOpenError skips the stack trace unless asked, and restores the global limit', () => {
    const limit = Error.stackTraceLimit;
    const cheap = errors.createCircuitOpenError('db', 'OPEN', 5, false);
    expect(cheap.stack).toBe('CircuitOpenError: Circuit breaker "db" is open; retry in 5 ms');
    expect(Error.stackTraceLimit).toBe(limit);
    const full = errors.createCircuitOpenError('db', 'OPEN', 5, true);
    expect(full.stack!.split('\n').length).toBeGreaterThan(1);
  });
});
