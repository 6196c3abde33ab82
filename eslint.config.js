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
  {
    // @nestjs/terminus is an optional peer: only the ./health entry point may load it.
    files: ['lib/**/*.ts'],
    ignores: ['lib/health/**', 'lib/core/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@nestjs/terminus', '@nestjs/terminus/*'],
              message:
                'Import @nestjs/terminus only under lib/health (an optional peer dependency).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['lib/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@nestjs/*', 'rxjs', 'rxjs/*', 'reflect-metadata', 'ioredis'],
              message: 'lib/core stays framework-free (its users may have no Nest peer installed).',
            },
          ],
        },
      ],
    },
  },
);
