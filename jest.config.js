/** Jest runs in ESM mode: NestJS 12 is ESM-only (see ../shared/DESIGN.md, "Toolchain facts"). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // The package's own name, as README examples import it, resolves to the sources (no build).
    '^nestjs-circuit-breaker$': '<rootDir>/lib/index.ts',
    '^nestjs-circuit-breaker/(core|health|opentelemetry|ops|prometheus|redis|testing)$':
      '<rootDir>/lib/$1/index.ts',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  testTimeout: 30_000,
};
