import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import {
  CircuitBreakerRegistry,
  type CircuitBreakerEvent,
  isBreakerDisposedError,
  type ManualClock,
} from '../../lib/index.js';
import { createApp, PLATFORMS, type Platform, until } from './fixture/app.factory.js';
import { OPEN_MS, THRESHOLD } from './fixture/app.module.js';
import { Dependency } from './fixture/dependency.js';

describe.each(PLATFORMS)('HTTP on %s', (platform: Platform) => {
  let app: INestApplication | undefined;
  let clock: ManualClock;
  let dependency: Dependency;
  let registry: CircuitBreakerRegistry;

  afterEach(async () => {
    dependency?.release();
    await app?.close();
    app = undefined;
  });

  async function start(options: { httpErrorFilter?: boolean } = {}): Promise<void> {
    const created = await createApp(platform, options);
    app = created.app;
    clock = created.clock;
    dependency = app.get(Dependency);
    registry = app.get(CircuitBreakerRegistry);
  }

  const http = () => request(app!.getHttpServer());

  async function trip(path: string, failingStatus = 500): Promise<void> {
    dependency.healthy = false;
    for (let i = 0; i < THRESHOLD; i++) await http().get(path).expect(failingStatus);
  }

  describe('decorated services behind plain routes (503 from the module-registered filter)', () => {
    it('a Promise method opens after the threshold; refused calls answer 503 with Retry-After', async () => {
      await start();
      await http().get('/quotes/a').expect(200, { quote: 'quote:a' });
      await trip('/quotes/a');
      expect(registry.get('quotes').state).toBe('OPEN');
      const reached = dependency.calls;
      const refused = await http().get('/quotes/a').expect(503);
      expect(refused.headers['retry-after']).toBe(String(OPEN_MS / 1_000));
      expect(refused.body).toEqual({ statusCode: 503, message: 'Service Unavailable' });
      expect(dependency.calls).toBe(reached);
    });

    it('Retry-After counts down in whole seconds, never below 1', async () => {
      await start();
      await trip('/quotes/a');
      clock.advance(OPEN_MS - 2_500);
      expect((await http().get('/quotes/a').expect(503)).headers['retry-after']).toBe('3');
      clock.advance(2_499);
      expect((await http().get('/quotes/a').expect(503)).headers['retry-after']).toBe('1');
    });

    it('recovers: after the open period one probe goes through and closes the circuit', async () => {
      await start();
      await trip('/quotes/a');
      dependency.healthy = true;
      clock.advance(OPEN_MS);
      await http().get('/quotes/a').expect(200, { quote: 'quote:a' });
      expect(registry.get('quotes').state).toBe('CLOSED');
    });

    it('a 4xx HttpException is the caller’s fault: ignored, the circuit stays closed', async () => {
      await start();
      for (let i = 0; i < THRESHOLD + 2; i++) await http().get('/quotes/missing').expect(404);
      const stats = registry.get('quotes').stats();
      expect(stats.state).toBe('CLOSED');
      expect(stats.ignored).toBe(THRESHOLD + 2);
      expect(stats.failures).toBe(0);
    });

    it('a synchronous method stays synchronous and trips like the others', async () => {
      await start();
      await http().get('/quotes/rate/usd').expect(200, { rate: 3 });
      await trip('/quotes/rate/usd');
      expect(registry.get('rates').state).toBe('OPEN');
      const refused = await http().get('/quotes/rate/usd').expect(503);
      expect(refused.headers['retry-after']).toBe(String(OPEN_MS / 1_000));
    });

    it('an Observable method is counted per subscription and refused with 503 when open', async () => {
      await start();
      await http().get('/quotes/ticker/abc').expect(200);
      await trip('/quotes/ticker/abc');
      expect(registry.get('ticker').stats()).toMatchObject({
        state: 'OPEN',
        successes: 1,
        failures: THRESHOLD,
      });
      const reached = dependency.calls;
      await http().get('/quotes/ticker/abc').expect(503);
      expect(dependency.calls).toBe(reached);
    });

    it('a fallback method answers failed calls and then refused ones, by default', async () => {
      await start();
      await trip('/quotes/catalog/7', 200);
      const reached = dependency.calls;
      const answer = await http().get('/quotes/catalog/7').expect(200);
      expect(answer.body).toEqual({ item: 'cached:7:CircuitOpenError' });
      expect(dependency.calls).toBe(reached);
      expect(registry.get('catalog').stats()).toMatchObject({
        state: 'OPEN',
        failures: THRESHOLD,
        rejections: 1,
        fallbacks: THRESHOLD + 1,
      });
    });

    it('without the filter, a refused call from a service is an ordinary 500', async () => {
      await start({ httpErrorFilter: false });
      await trip('/quotes/a');
      const refused = await http().get('/quotes/a').expect(500);
      expect(refused.headers['retry-after']).toBeUndefined();
    });
  });

  describe('CircuitBreakerInterceptor (the filter is off: the interceptor alone answers 503)', () => {
    it('guards a handler decorated above @Get() and maps the open circuit to 503 + Retry-After', async () => {
      await start({ httpErrorFilter: false });
      await http().get('/guarded/handler').expect(200, { value: 'handler' });
      await trip('/guarded/handler');
      const breaker = registry.get('guarded-handler');
      expect(breaker.stats()).toMatchObject({ state: 'OPEN', successes: 1, failures: THRESHOLD });
      const refused = await http().get('/guarded/handler').expect(503);
      expect(refused.headers['retry-after']).toBe(String(OPEN_MS / 1_000));
      // Counted once per request, by the decorator; the interceptor does not count it again.
      expect(breaker.stats().calls).toBe(1 + THRESHOLD + 1);
    });

    it('guards a handler decorated below @Get()', async () => {
      await start({ httpErrorFilter: false });
      await http().get('/guarded/below').expect(200, { value: 'below' });
      await trip('/guarded/below');
      await http().get('/guarded/below').expect(503);
      expect(registry.get('guarded-below').state).toBe('OPEN');
    });

    it('a class-level @CircuitBreaker gives the controller one breaker for every route', async () => {
      await start({ httpErrorFilter: false });
      await http().get('/inventory/b').expect(200, { value: 'b' });
      await trip('/inventory/a');
      const breaker = registry.get('InventoryController');
      expect(breaker.state).toBe('OPEN');
      const refused = await http().get('/inventory/b').expect(503);
      expect(refused.headers['retry-after']).toBe(String(OPEN_MS / 1_000));
      dependency.healthy = true;
      clock.advance(OPEN_MS);
      await http().get('/inventory/b').expect(200);
      expect(breaker.state).toBe('CLOSED');
    });

    it('a circuit held open by hand answers 503 without Retry-After', async () => {
      await start({ httpErrorFilter: false });
      registry.get('InventoryController').isolate();
      const refused = await http().get('/inventory/a').expect(503);
      expect(refused.headers['retry-after']).toBeUndefined();
    });
  });

  describe('/health through Terminus', () => {
    it('goes 200 → 503 → 200 (degraded while half-open) → 200 through an outage', async () => {
      await start();
      const healthy = await http().get('/health').expect(200);
      expect(healthy.body.status).toBe('ok');
      expect(healthy.body.details.circuits.breakers.quotes).toEqual({
        state: 'CLOSED',
        failureRate: 0,
      });

      await trip('/quotes/a');
      const down = await http().get('/health').expect(503);
      expect(down.body.status).toBe('error');
      expect(down.body.details.circuits).toMatchObject({
        status: 'down',
        open: ['quotes'],
        breakers: { quotes: { state: 'OPEN', failureRate: 1, retryAfter: OPEN_MS } },
      });

      clock.advance(OPEN_MS);
      const probing = await http().get('/health').expect(200);
      expect(probing.body.status).toBe('degraded');
      expect(probing.body.details.circuits.breakers.quotes.state).toBe('HALF_OPEN');
      await http().get('/health/strict').expect(503);

      dependency.healthy = true;
      await http().get('/quotes/a').expect(200);
      const recovered = await http().get('/health').expect(200);
      expect(recovered.body.status).toBe('ok');
    });

    it('a breaker declared with health: false does not take the instance down', async () => {
      await start();
      registry.get('optional').isolate();
      const answer = await http().get('/health').expect(200);
      expect(answer.body.details.circuits.breakers.optional).toBeUndefined();
      expect(Object.keys(answer.body.details.circuits.breakers)).toContain('quotes');
    });
  });

  describe('shutdown', () => {
    it('lets an in-flight call finish, then disposes every breaker and completes events$', async () => {
      await start();
      const events: CircuitBreakerEvent[] = [];
      let completed = false;
      registry.events$.subscribe({
        next: (e) => events.push(e),
        complete: () => (completed = true),
      });

      const response = http()
        .get('/quotes/slow/1')
        .then((r) => r);
      await until(() => dependency.pending === 1, 'the call reaches the dependency');
      const server = app!.getHttpServer() as { listening: boolean };
      const closing = app!.close();
      await until(() => !server.listening, 'the server stops listening');
      expect(registry.isShutDown).toBe(false);
      dependency.release();
      const answer = await response;
      await closing;
      app = undefined;

      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ value: 'slow:1' });
      expect(registry.get('slow').isDisposed).toBe(true);
      expect(registry.get('slow').stats()).toMatchObject({ successes: 1, inFlight: 0 });
      expect(events).toContainEqual(expect.objectContaining({ breaker: 'slow', type: 'success' }));
      expect(completed).toBe(true);
      const late = await Promise.resolve()
        .then(() => registry.get('quotes').execute(async () => 1))
        .catch((e: unknown) => e);
      expect(isBreakerDisposedError(late)).toBe(true);
    });
  });
});
