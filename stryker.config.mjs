// Mutation testing of the engine, lib/core: `npm run test:mutation` (README, Development).
// @ts-check
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  packageManager: 'npm',
  mutate: [
    'lib/core/**/*.ts',
    // Re-exports and files that declare types only: nothing to mutate.
    '!lib/core/index.ts',
    '!lib/core/options.ts',
    '!lib/core/snapshot.ts',
    '!lib/core/policies/trip-policy.ts',
  ],
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'jest.mutation.config.js',
    // Not Jest's --findRelatedTests: it misses the specs that reach a file through
    // lib/core/index.ts. perTest coverage picks the tests of each mutant instead.
    enableFindRelatedTests: false,
  },
  // Jest's ESM mode, as `npm test` runs it (NODE_OPTIONS=--experimental-vm-modules).
  testRunnerNodeArgs: ['--experimental-vm-modules'],
  coverageAnalysis: 'perTest',
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  // A 2-core machine, shared with other work: two test runners (and a checker process). The
  // generous timeout keeps a slow machine from passing a surviving mutant off as a timeout.
  concurrency: 2,
  timeoutMS: 10_000,
  timeoutFactor: 2,
  // A fresh Jest process now and then: Jest's ESM mode keeps modules alive between runs.
  maxTestRunnerReuse: 200,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  plugins: ['@stryker-mutator/*', './test/mutation/stream-reporter.mjs'],
  reporters: ['clear-text', 'progress-append-only', 'html', 'json', 'stream-survivors'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  // Build outputs are not copied into the sandbox.
  ignorePatterns: ['dist', 'dist-*', 'coverage'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
export default config;
