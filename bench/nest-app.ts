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
  // The parent asks for this process's CPU time around each load run: CPU per request is far
  // less disturbed by a noisy machine than requests per second.
  process.on('message', (message) => {
    if (message === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send!({ cpu: user + system });
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
