/**
 * The Nest app of case 7, run in a child process by `nest-route.ts`: two routes answering the same
 * thing through the same service, `/plain` through an undecorated method and `/decorated` through
 * a method decorated with `@CircuitBreaker()`. Reports its port to the parent over IPC.
 */
import 'reflect-metadata';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

@Injectable()
class QuoteService {
  async plain(): Promise<{ price: number }> {
    return { price: 42 };
  }

  async guarded(): Promise<{ price: number }> {
    return { price: 42 };
  }
}

@Controller()
class QuoteController {
  constructor(private readonly quotes: QuoteService) {}

  @Get('plain')
  plain(): Promise<{ price: number }> {
    return this.quotes.plain();
  }

  @Get('decorated')
  decorated(): Promise<{ price: number }> {
    return this.quotes.guarded();
  }
}

const median = (values: number[]): number => values.sort((a, b) => a - b)[values.length >> 1]!;

/**
 * Nanoseconds per call of the undecorated and the decorated service method, called and awaited
 * in-process: interleaved rounds, medians, and the median of the per-round differences.
 */
async function methodCost(
  quotes: QuoteService,
): Promise<{ plain: number; decorated: number; overhead: number }> {
  const calls = 5_000;
  const plain: number[] = [];
  const decorated: number[] = [];
  for (let round = 0; round < 33; round++) {
    let start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) await quotes.plain();
    const p = Number(process.hrtime.bigint() - start) / calls;
    start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) await quotes.guarded();
    const d = Number(process.hrtime.bigint() - start) / calls;
    if (round >= 3) {
      plain.push(p);
      decorated.push(d);
    }
  }
  const overhead = median(decorated.map((d, i) => d - plain[i]!));
  return { plain: median(plain), decorated: median(decorated), overhead };
}

interface NestApi {
  CircuitBreaker: (...args: unknown[]) => MethodDecorator;
  CircuitBreakerModule: { forRoot(...args: unknown[]): unknown };
}

async function main(): Promise<void> {
  // The package's public entry, compiled beside this file. Imported by a computed specifier so
  // that this file compiles before the Nest integration exists.
  const entry = new URL('../lib/index.js', import.meta.url).href;
  const api = (await import(entry)) as Partial<NestApi>;
  if (
    typeof api.CircuitBreaker !== 'function' ||
    typeof api.CircuitBreakerModule?.forRoot !== 'function'
  ) {
    throw new Error('lib/index.ts does not export CircuitBreaker and CircuitBreakerModule');
  }
  // Exactly what TypeScript emits for `@CircuitBreaker()` on QuoteService.guarded, done at run
  // time for the same reason as the import above.
  const original = QuoteService.prototype.guarded;
  const descriptor = Object.getOwnPropertyDescriptor(QuoteService.prototype, 'guarded')!;
  const decorated = Reflect.decorate(
    [api.CircuitBreaker()],
    QuoteService.prototype,
    'guarded',
    descriptor,
  );
  Object.defineProperty(QuoteService.prototype, 'guarded', decorated ?? descriptor);

  class AppModule {}
  Module({
    imports: [api.CircuitBreakerModule.forRoot() as never],
    controllers: [QuoteController],
    providers: [QuoteService],
  })(AppModule);

  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  // Whether anything wraps the decorated method once the app is up (decorator or explorer).
  const wrapped = app.get(QuoteService).guarded !== original;
  process.send!({ port: address.port, wrapped });
  // The parent asks for this process's CPU time around each load run, and for the cost of the
  // service method itself, called in-process, decorated and not.
  const quotes = app.get(QuoteService);
  process.on('message', (message) => {
    if (message === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send!({ cpu: user + system });
    } else if (message === 'method') {
      void methodCost(quotes).then((method) => process.send!({ method }));
    }
  });
  process.on('disconnect', () => {
    void app.close().finally(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.send!({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});
