/**
 * The defaults a Nest user brings from other resilience libraries, through a real HTTP client
 * (`@nestjs/axios`) against a real HTTP service on a loopback port, on Express and Fastify:
 *
 * 1. a fallback answers failures as well as refusals (`fallbackOnFailure: false` limits it);
 * 2. a downstream 4xx thrown by a common HTTP client is the caller's fault (ignored), 408 and 429
 *    are not;
 * 3. `timeout` works on Observable methods, per subscription, and is a bootstrap error on a
 *    synchronous method;
 * 4. decorated methods work in a testing module that was compiled but not initialised, and from
 *    another provider's `onModuleInit`; `init()` still validates everything.
 *
 * (The fifth, every bad option failing at bootstrap naming its layer, is in module.spec.ts.)
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { HttpModule, HttpService } from '@nestjs/axios';
import {
  Controller,
  Get,
  Inject,
  Injectable,
  type INestApplication,
  Module,
  type OnModuleInit,
  Param,
} from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { AxiosError } from 'axios';
// A value import: the decorator reads the method's declared return type (emitDecoratorMetadata).
import { firstValueFrom, map, Observable } from 'rxjs';
import request from 'supertest';
import {
  CallTimeoutError,
  CircuitBreaker,
  CircuitBreakerModule,
  CircuitBreakerRegistry,
  CircuitOpenError,
  ManualClock,
} from '../../lib/index.js';
import { eventually } from '../core/helpers/eventually.js';
import { adapterFor, initApp, PLATFORMS, type Platform } from './fixture/app.factory.js';
import { HttpDownstream } from './fixture/http-downstream.js';

const BASE_URL = Symbol('BASE_URL');

/** Waits for a condition that another party (the HTTP service) makes true; the deadline is a hang guard. */
const waitFor = (condition: () => boolean) =>
  eventually(() => expect(condition()).toBe(true), 20_000);
const THRESHOLD = 3;
const TIMEOUT_MS = 1_000;

interface Item {
  id: string;
  price: number;
}

@Injectable()
class CatalogClient {
  constructor(
    private readonly http: HttpService,
    @Inject(BASE_URL) private readonly baseUrl: string,
  ) {}

  /** The fallback answers failures and refusals (the default). */
  @CircuitBreaker('catalog', { fallback: 'cached' })
  async item(path: string): Promise<Item> {
    const response = await firstValueFrom(this.http.get<Item>(`${this.baseUrl}${path}`));
    return response.data;
  }

  cached(path: string, error: unknown): Item {
    return { id: `cached:${path}:${(error as Error).name}`, price: 0 };
  }

  /** The fallback answers refusals only. */
  @CircuitBreaker('catalog-strict', { fallback: 'cached', fallbackOnFailure: false })
  async strictItem(path: string): Promise<Item> {
    const response = await firstValueFrom(this.http.get<Item>(`${this.baseUrl}${path}`));
    return response.data;
  }

  /** No fallback: what the caller sees is what the client threw. */
  @CircuitBreaker('catalog-plain')
  async plainItem(path: string): Promise<Item> {
    const response = await firstValueFrom(this.http.get<Item>(`${this.baseUrl}${path}`));
    return response.data;
  }

  /** An Observable method with a timeout: each subscription is one timed call. */
  @CircuitBreaker('catalog-stream', { timeout: TIMEOUT_MS })
  item$(path: string): Observable<Item> {
    return this.http.get<Item>(`${this.baseUrl}${path}`).pipe(map((response) => response.data));
  }

  /** The same, with a fallback. */
  @CircuitBreaker('catalog-stream-fallback', { timeout: TIMEOUT_MS, fallback: 'cached' })
  itemOrCached$(path: string): Observable<Item> {
    return this.http.get<Item>(`${this.baseUrl}${path}`).pipe(map((response) => response.data));
  }
}

@Controller('catalog')
class CatalogController {
  constructor(private readonly catalog: CatalogClient) {}

  @Get(':kind/:id')
  item(@Param('kind') kind: string, @Param('id') id: string): Promise<Item> {
    return this.catalog.item(`/${kind}/${id}`);
  }
}

function catalogModule(clock: ManualClock, baseUrl: string) {
  @Module({
    imports: [
      HttpModule,
      CircuitBreakerModule.forRoot({
        defaults: { clock, failureThreshold: THRESHOLD, openDuration: 10_000 },
        httpErrorFilter: true,
      }),
    ],
    controllers: [CatalogController],
    providers: [CatalogClient, { provide: BASE_URL, useValue: baseUrl }],
    exports: [CatalogClient],
  })
  class CatalogModule {}
  return CatalogModule;
}

describe.each(PLATFORMS)('A Nest user’s first hour, on %s', (platform: Platform) => {
  const downstream = new HttpDownstream();
  let baseUrl: string;
  let app: INestApplication | undefined;
  let clock: ManualClock;

  beforeAll(async () => {
    baseUrl = await downstream.start();
  });

  afterAll(async () => {
    await downstream.stop();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(): Promise<{ client: CatalogClient; registry: CircuitBreakerRegistry }> {
    clock = new ManualClock(1_000_000);
    const moduleRef = await Test.createTestingModule({
      imports: [catalogModule(clock, baseUrl)],
    }).compile();
    app = await initApp(
      moduleRef.createNestApplication(adapterFor(platform), { logger: false }),
      platform,
    );
    return { client: app.get(CatalogClient), registry: app.get(CircuitBreakerRegistry) };
  }

  describe('1. a fallback answers failures as well as refusals', () => {
    it('by default: a failed call and then a refused one are both answered, over HTTP', async () => {
      const { registry } = await start();
      const http = () => request(app!.getHttpServer());
      await http().get('/catalog/items/7').expect(200, { id: '7', price: 42 });
      for (let i = 0; i < THRESHOLD; i++) {
        const failed = await http().get('/catalog/status/503').expect(200);
        expect(failed.body).toEqual({ id: 'cached:/status/503:AxiosError', price: 0 });
      }
      const reached = downstream.received.length;
      const refused = await http().get('/catalog/items/7').expect(200);
      expect(refused.body).toEqual({ id: 'cached:/items/7:CircuitOpenError', price: 0 });
      expect(downstream.received.length).toBe(reached);
      expect(registry.get('catalog').stats()).toMatchObject({
        state: 'OPEN',
        successes: 1,
        failures: THRESHOLD,
        rejections: 1,
        fallbacks: THRESHOLD + 1,
      });
    });

    it('fallbackOnFailure: false limits the fallback to refused calls', async () => {
      const { client, registry } = await start();
      for (let i = 0; i < THRESHOLD; i++) {
        await expect(client.strictItem('/status/500')).rejects.toBeInstanceOf(AxiosError);
      }
      expect(await client.strictItem('/items/1')).toEqual({
        id: 'cached:/items/1:CircuitOpenError',
        price: 0,
      });
      expect(registry.get('catalog-strict').stats()).toMatchObject({
        failures: THRESHOLD,
        rejections: 1,
        fallbacks: 1,
      });
    });
  });

  describe('2. a downstream 4xx through @nestjs/axios is the caller’s fault', () => {
    it('404s are ignored: the circuit stays closed, the error reaches the caller, no fallback answers it', async () => {
      const { client, registry } = await start();
      for (let i = 0; i < THRESHOLD * 3; i++) {
        const error = await client.item('/status/404').catch((e: unknown) => e);
        expect((error as AxiosError).response?.status).toBe(404);
      }
      for (let i = 0; i < THRESHOLD * 2; i++) {
        await expect(client.plainItem('/status/422')).rejects.toBeInstanceOf(AxiosError);
      }
      expect(registry.get('catalog').stats()).toMatchObject({
        state: 'CLOSED',
        ignored: THRESHOLD * 3,
        failures: 0,
        fallbacks: 0,
      });
      expect(registry.get('catalog-plain').stats()).toMatchObject({
        state: 'CLOSED',
        ignored: THRESHOLD * 2,
      });
    });

    it('429 and 408 are the dependency’s condition: they count as failures and open the circuit', async () => {
      const { client, registry } = await start();
      await expect(client.plainItem('/status/429')).rejects.toBeInstanceOf(AxiosError);
      await expect(client.plainItem('/status/408')).rejects.toBeInstanceOf(AxiosError);
      await expect(client.plainItem('/status/429')).rejects.toBeInstanceOf(AxiosError);
      await expect(client.plainItem('/items/1')).rejects.toBeInstanceOf(CircuitOpenError);
      expect(registry.get('catalog-plain').stats()).toMatchObject({
        state: 'OPEN',
        failures: 3,
        ignored: 0,
      });
    });
  });

  describe('3. timeout on an Observable method', () => {
    it('tears the subscription down, delivers CallTimeoutError and counts one timeout', async () => {
      const { client, registry } = await start();
      const result = firstValueFrom(client.item$('/hang')).catch((e: unknown) => e);
      await waitFor(() => downstream.received.at(-1) === '/hang'); // the request reached the service
      const abortedBefore = downstream.aborted;
      clock.advance(TIMEOUT_MS - 1);
      expect(registry.get('catalog-stream').stats()).toMatchObject({ inFlight: 1, timeouts: 0 });
      clock.advance(1);
      const error = await result;
      expect(error).toBeInstanceOf(CallTimeoutError);
      expect((error as CallTimeoutError).breakerName).toBe('catalog-stream');
      // The HTTP request was cancelled by the teardown: the service saw its client go away.
      await waitFor(() => downstream.aborted > abortedBefore); // the request was aborted
      expect(registry.get('catalog-stream').stats()).toMatchObject({
        calls: 1,
        timeouts: 1,
        failures: 0,
        inFlight: 0,
      });
    });

    it('each subscription is timed on its own, and a timely answer clears its timer', async () => {
      const { client, registry } = await start();
      const stream = client.item$('/items/9');
      expect(await firstValueFrom(stream)).toEqual({ id: '9', price: 42 });
      expect(clock.pendingTimers).toBe(0);
      clock.advance(TIMEOUT_MS * 5);
      expect(await firstValueFrom(stream)).toEqual({ id: '9', price: 42 });
      expect(registry.get('catalog-stream').stats()).toMatchObject({
        calls: 2,
        successes: 2,
        timeouts: 0,
      });
    });

    it('trips like failures do, and a timed-out call is answered by the fallback', async () => {
      const { client, registry } = await start();
      for (let i = 0; i < THRESHOLD; i++) {
        const answer = firstValueFrom(client.itemOrCached$('/hang'));
        await waitFor(() => clock.pendingTimers === 1); // the subscription is timed
        clock.advance(TIMEOUT_MS);
        expect(await answer).toEqual({ id: 'cached:/hang:CallTimeoutError', price: 0 });
      }
      expect(registry.get('catalog-stream-fallback').stats()).toMatchObject({
        state: 'OPEN',
        timeouts: THRESHOLD,
        fallbacks: THRESHOLD,
      });
      expect(await firstValueFrom(client.itemOrCached$('/items/1'))).toEqual({
        id: 'cached:/items/1:CircuitOpenError',
        price: 0,
      });
    });

    it('a timeout on a synchronous method fails the bootstrap, naming the method and where the timeout was written', async () => {
      @Injectable()
      class Rates {
        @CircuitBreaker('rates')
        rate(currency: string): number {
          return currency.length;
        }
      }
      const moduleRef = await Test.createTestingModule({
        imports: [CircuitBreakerModule.forRoot({ breakers: { rates: { timeout: 500 } } })],
        providers: [Rates],
      }).compile();
      const candidate = moduleRef.createNestApplication(adapterFor(platform), { logger: false });
      await expect(candidate.init()).rejects.toThrow(
        'Circuit breaker "rates": option "timeout" must be unset for the synchronous method Rates.rate (a synchronous call cannot be timed out: return a Promise or an Observable, or give the method a breaker without a timeout), received 500 (number) (in CircuitBreakerModule.forRoot({ breakers }))',
      );
      await candidate.close();
    });
  });

  describe('4. a testing module that was compiled but not initialised', () => {
    const modules: TestingModule[] = [];
    afterEach(async () => {
      for (const m of modules.splice(0)) await m.close();
    });

    async function compileOnly(...providers: Array<new (...args: never[]) => unknown>) {
      clock = new ManualClock(1_000_000);
      const moduleRef = await Test.createTestingModule({
        imports: [catalogModule(clock, baseUrl)],
        providers,
      }).compile();
      modules.push(moduleRef);
      return moduleRef;
    }

    it('as the Nest CLI scaffolds unit tests: compile(), get(), call, with the same semantics', async () => {
      const moduleRef = await compileOnly();
      const client = moduleRef.get(CatalogClient);
      expect(await client.plainItem('/items/3')).toEqual({ id: '3', price: 42 });
      for (let i = 0; i < THRESHOLD; i++) {
        await expect(client.plainItem('/status/500')).rejects.toBeInstanceOf(AxiosError);
      }
      const reached = downstream.received.length;
      await expect(client.plainItem('/items/3')).rejects.toBeInstanceOf(CircuitOpenError);
      expect(downstream.received.length).toBe(reached);
      expect(await client.item('/items/4')).toEqual({ id: '4', price: 42 });
      const registry = moduleRef.get(CircuitBreakerRegistry);
      expect(registry.get('catalog-plain').stats()).toMatchObject({
        state: 'OPEN',
        successes: 1,
        failures: THRESHOLD,
        rejections: 1,
      });
      expect(registry.get('catalog-plain').options.circuit.openDuration).toBe(10_000);
    });

    it('from another provider’s onModuleInit', async () => {
      @Injectable()
      class Warmup implements OnModuleInit {
        warmed: Item | undefined;
        constructor(@Inject(CatalogClient) private readonly catalog: CatalogClient) {}
        async onModuleInit(): Promise<void> {
          this.warmed = await this.catalog.plainItem('/items/warm');
        }
      }
      const moduleRef = await compileOnly(Warmup);
      await moduleRef.init();
      expect(moduleRef.get(Warmup).warmed).toEqual({ id: 'warm', price: 42 });
      expect(moduleRef.get(CircuitBreakerRegistry).get('catalog-plain').stats().successes).toBe(1);
    });

    it('init() still validates every breaker, including those no call has used', async () => {
      @Injectable()
      class Misconfigured {
        @CircuitBreaker('misconfigured', { halfOpenMaxCalls: 0 })
        async call(): Promise<number> {
          return 1;
        }
      }
      const moduleRef = await compileOnly(Misconfigured);
      expect(await moduleRef.get(CatalogClient).plainItem('/items/5')).toEqual({
        id: '5',
        price: 42,
      });
      await expect(moduleRef.init()).rejects.toThrow(
        'Circuit breaker "misconfigured": option "halfOpenMaxCalls" must be an integer >= 1, received 0 (number) (in @CircuitBreaker on Misconfigured.call)',
      );
    });
  });
});
