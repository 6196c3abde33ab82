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
  // prom-client under lib/prometheus, @opentelemetry/api under lib/opentelemetry (lib/core has its
  // own, stricter rule below). The metrics entries load no Nest code at run time.
  ...[
    {
      files: ['lib/**/*.ts'],
      ignores: ['lib/health/**', 'lib/prometheus/**', 'lib/opentelemetry/**', 'lib/core/**'],
    },
    { files: ['lib/health/**/*.ts'], only: '@nestjs/terminus' },
    {
      files: ['lib/prometheus/**/*.ts'],
      only: 'prom-client',
      engineUsers: { home: 'lib/prometheus', api: 'registerCircuitBreakerMetrics' },
    },
    {
      files: ['lib/opentelemetry/**/*.ts'],
      only: '@opentelemetry/api',
      engineUsers: { home: 'lib/opentelemetry', api: 'instrumentCircuitBreakers' },
    },
  ].map(({ only, engineUsers, ...where }) => ({
    ...where,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { package: '@nestjs/terminus', home: 'lib/health' },
            { package: 'prom-client', home: 'lib/prometheus' },
            { package: '@opentelemetry/api', home: 'lib/opentelemetry' },
          ]
            .filter(({ package: name }) => name !== only)
            .map(({ package: name, home }) => ({
              group: [name, `${name}/*`],
              message: `Import ${name} only under ${home} (an optional peer dependency).`,
            }))
            .concat(
              engineUsers !== undefined
                ? [
                    {
                      group: ['@nestjs/*', 'rxjs', 'rxjs/*', 'reflect-metadata'],
                      allowTypeImports: true,
                      message: `${engineUsers.home} loads no Nest code at run time: engine users import ${engineUsers.api} from it without Nest installed.`,
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
              group: [
                '@nestjs/*',
                'rxjs',
                'rxjs/*',
                'reflect-metadata',
                'ioredis',
                'prom-client',
                '@opentelemetry/*',
              ],
              message: 'lib/core stays framework-free (its users may have no Nest peer installed).',
            },
          ],
        },
      ],
    },
  },
);
