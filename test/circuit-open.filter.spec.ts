import { describe, expect, it } from '@jest/globals';
import type { ArgumentsHost } from '@nestjs/common';
import { CircuitOpenError, CircuitOpenExceptionFilter } from '../lib/index.js';

function host(type: string, response: unknown = {}): ArgumentsHost {
  return {
    getType: () => type,
    switchToHttp: () => ({ getResponse: () => response }),
  } as unknown as ArgumentsHost;
}

const open = new CircuitOpenError('payments', 'OPEN', 2_500);
const body = { statusCode: 503, message: 'Service Unavailable' };

describe('CircuitOpenExceptionFilter', () => {
  it('catches refusals from any copy of the package (branded errors), not other errors', () => {
    const metatypes = Reflect.getMetadata(
      '__filterCatchExceptions__',
      CircuitOpenExceptionFilter,
    ) as Array<{ [Symbol.hasInstance](v: unknown): boolean }> | undefined;
    const [matcher] = metatypes ?? [];
    expect(open instanceof (matcher as never)).toBe(true);
    const foreign = Object.create(
      Object.defineProperty({}, Symbol.for('nestjs-circuit-breaker.error'), {
        value: 'CircuitOpenError',
      }),
    ) as object;
    expect(foreign instanceof (matcher as never)).toBe(true);
    expect(new Error('x') instanceof (matcher as never)).toBe(false);
  });

  it('answers 503 with Retry-After on an Express-like response when built without the adapter', () => {
    const calls: unknown[] = [];
    const response = {
      setHeader: (name: string, value: string) => calls.push(['header', name, value]),
      status(code: number) {
        calls.push(['status', code]);
        return this;
      },
      json: (payload: unknown) => calls.push(['json', payload]),
    };
    new CircuitOpenExceptionFilter().catch(open, host('http', response));
    expect(calls).toEqual([
      ['header', 'Retry-After', '3'],
      ['status', 503],
      ['json', body],
    ]);
  });

  it('answers 503 with Retry-After on a Fastify-like reply when built without the adapter', () => {
    const calls: unknown[] = [];
    const reply = {
      header: (name: string, value: string) => calls.push(['header', name, value]),
      code(code: number) {
        calls.push(['code', code]);
        return this;
      },
      send: (payload: unknown) => calls.push(['send', payload]),
    };
    new CircuitOpenExceptionFilter().catch(open, host('http', reply));
    expect(calls).toEqual([
      ['header', 'Retry-After', '3'],
      ['code', 503],
      ['send', body],
    ]);
  });

  it('hands an unmapped error back in a context it does not know', () => {
    expect(() => new CircuitOpenExceptionFilter().catch(open, host('custom'))).toThrow(open);
  });
});
