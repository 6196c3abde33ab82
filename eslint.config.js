import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'dist-check/',
      'dist-sample/',
      'dist-bench/',
      'dist-e2e/',
      'coverage/',
      // Mutation testing (stryker.config.mjs): its sandboxes and reports.
      '.stryker-tmp*/',
      'reports/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // CommonJS: the packed-tarball consumer tests and dependency-cruiser's config.
    files: ['test/package/**/*.cjs', '.dependency-cruiser.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // Optional peers, each loaded by its own entry point only: @nestjs/terminus under lib/health,
  // prom-client under lib/prometheus (lib/core has its own, stricter rule below).
  ...[
    { files: ['lib/**/*.ts'], ignores: ['lib/health/**', 'lib/prometheus/**', 'lib/core/**'] },
    { files: ['lib/health/**/*.ts'], only: '@nestjs/terminus' },
    { files: ['lib/prometheus/**/*.ts'], only: 'prom-client' },
  ].map(({ only, ...where }) => ({
    ...where,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { package: '@nestjs/terminus', home: 'lib/health' },
            { package: 'prom-client', home: 'lib/prometheus' },
          ]
            .filter(({ package: name }) => name !== only)
            .map(({ package: name, home }) => ({
              group: [name, `${name}/*`],
              message: `Import ${name} only under ${home} (an optional peer dependency).`,
            }))
            .concat(
              only === 'prom-client'
                ? [
                    {
                      group: ['@nestjs/*', 'rxjs', 'rxjs/*', 'reflect-metadata'],
                      allowTypeImports: true,
                      message:
                        'lib/prometheus loads no Nest code at run time: engine users import registerCircuitBreakerMetrics from it without Nest installed.',
                    },
                  ]
                : [],
            ),
        },
      ],
    },
  })),
  {
    files: ['lib/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@nestjs/*', 'rxjs', 'rxjs/*', 'reflect-metadata', 'ioredis', 'prom-client'],
              message: 'lib/core stays framework-free (its users may have no Nest peer installed).',
            },
          ],
        },
      ],
    },
  },
);
