/**
 * The ops module's options are checked when the application starts: no guard refuses to start
 * (unless allowUnguarded), and a bad value names the option, what was expected and what came.
 */
import { describe, expect, it } from '@jest/globals';
import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  Module,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CircuitBreakerModule } from '../../lib/index.js';
import { CircuitBreakerOpsModule, type CircuitBreakerOpsOptions } from '../../lib/ops/index.js';
import { resolveOpsOptions } from '../../lib/ops/ops-options.js';
import { PLATFORMS, startOpsApp, TokenGuard } from './fixture/ops-app.js';

const bootstrap = (options: unknown) =>
  Test.createTestingModule({
    imports: [
      CircuitBreakerModule.forRoot(),
      CircuitBreakerOpsModule.forRoot(options as CircuitBreakerOpsOptions),
    ],
  }).compile();

describe('CircuitBreakerOpsModule.forRoot() options', () => {
  it('refuses to start without a guard', async () => {
    for (const options of [{}, { guards: [] }, { dashboard: true }, { allowUnguarded: false }]) {
      await expect(bootstrap(options)).rejects.toThrow(
        /need at least one guard in option "guards" \(received (undefined|an array of length 0)\); pass allowUnguarded: true/,
      );
    }
  });

  it.each(PLATFORMS)(
    'starts unguarded on %s when told to, and serves the routes',
    async (platform) => {
      const ops = await startOpsApp(platform, { allowUnguarded: true });
      try {
        const response = await fetch(`${ops.url}/actuator/circuitbreakers`);
        expect(response.status).toBe(200);
        await response.arrayBuffer();
      } finally {
        await ops.close();
      }
    },
  );

  it('accepts guard instances as well as classes', async () => {
    const ops = await startOpsApp('express', { guards: [{ canActivate: () => false }] });
    try {
      expect((await fetch(`${ops.url}/actuator/circuitbreakers`)).status).toBe(403);
    } finally {
      await ops.close();
    }
  });

  it('instantiates a guard class with providers from `imports`', async () => {
    @Injectable()
    class Tokens {
      readonly accepted = 'from-the-tokens-module';
    }
    @Module({ providers: [Tokens], exports: [Tokens] })
    class TokensModule {}
    @Injectable()
    class TokensGuard implements CanActivate {
      constructor(@Inject(Tokens) private readonly tokens: Tokens) {}
      canActivate(context: ExecutionContext): boolean {
        const { headers } = context
          .switchToHttp()
          .getRequest<{ headers: Record<string, string> }>();
        return headers['x-ops-token'] === this.tokens.accepted;
      }
    }
    const ops = await startOpsApp('fastify', { guards: [TokensGuard], imports: [TokensModule] });
    try {
      const ok = await fetch(`${ops.url}/actuator/circuitbreakers`, {
        headers: { 'x-ops-token': 'from-the-tokens-module' },
      });
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
      expect((await ops.call('/actuator/circuitbreakers')).status).toBe(403);
    } finally {
      await ops.close();
    }
  });

  it.each([
    [
      undefined,
      'expects an options object with `guards` (or allowUnguarded: true), received undefined',
    ],
    [
      { guards: TokenGuard },
      'option "guards" must be an array of guard classes or instances, received a function "TokenGuard"',
    ],
    [
      { guards: [TokenGuard, 'admin'] },
      'option "guards[1]" must be a guard class or an object with a canActivate() method, received "admin" (string)',
    ],
    [
      { guards: [TokenGuard], path: 'ops/:name' },
      "option \"path\" must be a route prefix of letters, digits, '-', '.', '_', '~' and '/', received \"ops/:name\" (string)",
    ],
    [{ guards: [TokenGuard], path: 7 }, 'option "path" must be a route prefix'],
    [
      { guards: [TokenGuard], eventBufferSize: 0 },
      'option "eventBufferSize" must be an integer from 1 to 100000, received 0 (number)',
    ],
    [
      { guards: [TokenGuard], eventBufferSize: 1.5 },
      'option "eventBufferSize" must be an integer from 1 to 100000, received 1.5 (number)',
    ],
    [
      { guards: [TokenGuard], streamSummaryInterval: 10 },
      'option "streamSummaryInterval" must be an integer from 100 to 3600000, received 10 (number)',
    ],
    [
      { guards: [TokenGuard], dashboard: 'yes' },
      'option "dashboard" must be true or false, received "yes" (string)',
    ],
    [
      { guards: [TokenGuard], allowUnguarded: 1 },
      'option "allowUnguarded" must be true or false, received 1 (number)',
    ],
    [
      { guards: [TokenGuard], guard: [TokenGuard] },
      'option "guard" must be one of the known options',
    ],
  ])('fails the bootstrap for %p, naming the option', async (options, message) => {
    await expect(bootstrap(options)).rejects.toThrow(message);
  });

  it('applies the defaults', () => {
    expect(resolveOpsOptions({ guards: [TokenGuard] })).toEqual({
      path: 'actuator',
      guards: [TokenGuard],
      dashboard: false,
      eventBufferSize: 100,
      streamSummaryInterval: 1_000,
    });
    expect(resolveOpsOptions({ allowUnguarded: true, path: '/' }).path).toBe('');
  });
});
