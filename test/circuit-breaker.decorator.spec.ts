import { describe, expect, it } from '@jest/globals';
import { Get, Injectable, SetMetadata } from '@nestjs/common';
import { isObservable, Observable, of } from 'rxjs';
import {
  CIRCUIT_BREAKER_METADATA,
  CircuitBreaker,
  getCircuitBreakerMetadata,
} from '../lib/index.js';

const NO_MODULE = 'no initialised CircuitBreakerModule can serve this call';

@Injectable()
class Service {
  @SetMetadata('below', 1)
  @CircuitBreaker()
  below(a: number, b: number): number {
    return a + b;
  }

  @CircuitBreaker('named', { timeout: 5, fallback: 'below' })
  @SetMetadata('above', 2)
  @Get('path')
  above(): number {
    return 1;
  }

  @CircuitBreaker()
  async unannotatedAsync() {
    return 1;
  }

  @CircuitBreaker()
  promise(): Promise<number> {
    return Promise.resolve(1);
  }

  @CircuitBreaker()
  stream(): Observable<number> {
    return of(1);
  }

  @CircuitBreaker()
  unannotated() {
    return 1;
  }
}

@CircuitBreaker()
class WholeController {}

@CircuitBreaker('custom', { openDuration: 1 })
class NamedController {}

describe('@CircuitBreaker', () => {
  it('keeps the method’s name, length and every other decorator’s metadata, in both orders', () => {
    const { below, above } = Service.prototype;
    expect(below.name).toBe('below');
    expect(below.length).toBe(2);
    expect(Reflect.getMetadata('below', below)).toBe(1);
    expect(Reflect.getMetadata('above', above)).toBe(2);
    expect(Reflect.getMetadata('path', above)).toBe('path');
    expect(Reflect.getMetadata('method', above)).toBe(0);
  });

  it('records the breaker name (ClassName.methodName by default), options and fallback', () => {
    expect(getCircuitBreakerMetadata(Service.prototype.below)).toEqual({
      name: 'Service.below',
      options: {},
      fallback: undefined,
      className: 'Service',
      methodName: 'below',
      returns: 'sync',
    });
    expect(Reflect.getMetadata(CIRCUIT_BREAKER_METADATA, Service.prototype.above)).toMatchObject({
      name: 'named',
      options: { timeout: 5 },
      fallback: 'below',
    });
  });

  it('on a class records one breaker named after the class', () => {
    expect(getCircuitBreakerMetadata(WholeController)).toMatchObject({
      name: 'WholeController',
      methodName: undefined,
    });
    expect(getCircuitBreakerMetadata(NamedController)).toMatchObject({
      name: 'custom',
      options: { openDuration: 1 },
    });
  });

  describe('without a module, fails with a clear error in the method’s own shape', () => {
    const service = new Service();

    it('a synchronous method throws', () => {
      expect(() => service.below(1, 2)).toThrow(
        `@CircuitBreaker on Service.below (breaker "Service.below"): ${NO_MODULE}`,
      );
    });

    it('an async or Promise-returning method rejects', async () => {
      const fromAsync = service.unannotatedAsync();
      const fromPromise = service.promise();
      expect(fromAsync).toBeInstanceOf(Promise);
      expect(fromPromise).toBeInstanceOf(Promise);
      await expect(fromAsync).rejects.toThrow(NO_MODULE);
      await expect(fromPromise).rejects.toThrow(NO_MODULE);
    });

    it('an Observable-returning method returns an Observable that errors', () => {
      const result = service.stream();
      expect(isObservable(result)).toBe(true);
      let error: unknown;
      result.subscribe({ error: (e: unknown) => (error = e) });
      expect((error as Error).message).toContain(NO_MODULE);
    });

    it('a method of unknown shape throws synchronously', () => {
      expect(() => service.unannotated()).toThrow(NO_MODULE);
    });
  });

  it('rejects misuse when the class is defined', () => {
    expect(() => CircuitBreaker('')).toThrow('name must be a non-empty string');
    expect(() => {
      class Static {
        @CircuitBreaker()
        static run(): void {}
      }
      return Static;
    }).toThrow('@CircuitBreaker on static method Static.run');
  });
});
