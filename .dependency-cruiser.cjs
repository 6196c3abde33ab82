// The import rules of lib/ (`npm run lint:structure`): no cycle anywhere, and the two layers of
// the house (DESIGN.md): the engine in lib/core imports nothing from Nest or from the glue above it.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: each module of it can only be understood with all the others.',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    {
      name: 'core-stays-framework-free',
      severity: 'error',
      comment: 'lib/core is the engine: no NestJS, no rxjs, nothing from the layers above it.',
      from: { path: '^lib/core/' },
      to: {
        path: ['^lib/(?!core/)', '@nestjs', 'rxjs', 'ioredis', 'prom-client', '@opentelemetry'],
      },
    },
    {
      name: 'core-through-its-entries',
      severity: 'error',
      comment:
        'Outside lib/core, the engine is reached through lib/core/index.ts (public) or ' +
        'lib/core/internal.ts (the package-internal entry), never a file of its inside.',
      from: { path: '^lib/', pathNot: '^lib/core/' },
      to: { path: '^lib/core/', pathNot: '^lib/core/(index|internal)[.]ts$' },
    },
    {
      name: 'prometheus-loads-no-nest',
      severity: 'error',
      comment:
        'lib/prometheus serves engine users too: at run time it loads the engine, prom-client and ' +
        'the registry token (a file with no import), nothing from Nest; types are fine.',
      from: { path: '^lib/prometheus/' },
      to: {
        path: [
          '@nestjs',
          'rxjs',
          'reflect-metadata',
          '^lib/(?!core/|prometheus/|circuit-breaker[.]constants[.]ts$)',
        ],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'ops-needs-only-the-nest-peers',
      severity: 'error',
      comment:
        'lib/ops needs the Nest peers (@nestjs/common, @nestjs/core, rxjs) and nothing optional: ' +
        'no Redis, Prometheus, OpenTelemetry or Terminus, so importing it never asks for another peer.',
      from: { path: '^lib/ops/' },
      to: {
        path: [
          'ioredis',
          'prom-client',
          '@opentelemetry',
          '@nestjs/terminus',
          '^lib/(redis|prometheus|opentelemetry|health)/',
        ],
      },
    },
    {
      name: 'testing-needs-only-the-nest-peers',
      severity: 'error',
      comment:
        'lib/testing needs the Nest peers (@nestjs/common, @nestjs/core, rxjs) and nothing ' +
        'optional: not @nestjs/testing (a dev dependency of the user, never ours), nor Redis, ' +
        'Prometheus, OpenTelemetry or Terminus.',
      from: { path: '^lib/testing/' },
      to: {
        path: [
          '@nestjs/testing',
          'ioredis',
          'prom-client',
          '@opentelemetry',
          '@nestjs/terminus',
          '^lib/(redis|prometheus|opentelemetry|health|ops)/',
        ],
      },
    },
    {
      name: 'opentelemetry-loads-no-nest',
      severity: 'error',
      comment:
        'lib/opentelemetry serves engine users too: at run time it loads the engine, ' +
        '@opentelemetry/api and the registry token (a file with no import), nothing from Nest; ' +
        'types are fine.',
      from: { path: '^lib/opentelemetry/' },
      to: {
        path: [
          '@nestjs',
          'rxjs',
          'reflect-metadata',
          '^lib/(?!core/|opentelemetry/|circuit-breaker[.]constants[.]ts$)',
        ],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: { path: '^lib/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
