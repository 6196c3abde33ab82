// Vitest runs the README's vitest example (`npm run test:vitest`, in CI after `npm test`): only
// `*.vitest.ts` files, so it never picks up the Jest specs (`*.spec.ts`), which Jest runs. SWC
// compiles the TypeScript, because Nest's dependency injection needs decorator metadata, which
// Vitest's default transform (esbuild) does not emit.
import { fileURLToPath, URL } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const lib = fileURLToPath(new URL('./lib/', import.meta.url));

export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    // The package's own name, as the README example imports it, resolves to the sources.
    alias: [
      { find: /^nestjs-circuit-breaker$/, replacement: `${lib}index.ts` },
      { find: /^nestjs-circuit-breaker\/([a-z]+)$/, replacement: `${lib}$1/index.ts` },
    ],
  },
  test: {
    include: ['test/**/*.vitest.ts'],
    environment: 'node',
  },
});
