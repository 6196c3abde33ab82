// `npm run test:package`: the packed tarball, tested the way consumers install it. Packs the
// repository (the prepack script builds it) into a temp folder, then, each in a temp folder of its
// own, `npm install`s the tarball and the peers at the versions this repository's lockfile tests
// (from the registry, preferring npm's cache), compiles and runs:
//   esm-app       an ESM Nest app (fixtures/esm-app + fixtures/nest-app), strict tsc, run
//   cjs-app       the same app as CommonJS, "module": "commonjs", run through require(esm);
//                 also type-checked by TypeScript 5.9, whose "commonjs" default resolution is node10
//   types-matrix  every entry point under node16, node20, nodenext, bundler and node10 resolution,
//                 from ESM and CommonJS, with TypeScript 6.0 and 5.9; plus cases that must fail
//   core-only     the tarball alone: none of the Nest peers get installed; /core loads and runs
//                 from ESM and CommonJS, and type-checks
//   otel-only     the tarball and @opentelemetry/api, no Nest peer: /opentelemetry loads and runs
// Fixture sources are real files under test/package/fixtures. Prints one line per check and a
// closing "N passed, N failed" line; exits non-zero if anything failed. KEEP_PACKAGE_TEST=1 keeps
// the temp folder.
import { copyFileSync, cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  CommandError,
  inParallel,
  kB,
  MB,
  pack,
  readJson,
  repoRoot,
  runAsync,
  sizeOf,
} from './helpers.mjs';

const fixtures = join(repoRoot, 'test/package/fixtures');
const lock = readJson(join(repoRoot, 'package-lock.json'));
/** `name@version` as this repository's lockfile has it. */
const locked = (name) => {
  const version = lock.packages[`node_modules/${name}`]?.version;
  if (!version) throw new CheckFailed(`${name} is not in package-lock.json`);
  return `${name}@${version}`;
};
/** A second TypeScript, for what TypeScript 5 users see (node10 is their "commonjs" default). */
const TYPESCRIPT_5 = 'typescript5@npm:typescript@5.9.3';
const NEST_PEERS = ['@nestjs/common', '@nestjs/core', 'reflect-metadata', 'rxjs'];
const ALL_PEERS = [
  ...NEST_PEERS,
  '@nestjs/terminus',
  'ioredis',
  'prom-client',
  '@opentelemetry/api',
];
const TOOLS = ['typescript', '@types/node'];

const started = performance.now();
const seconds = (since) => ((performance.now() - since) / 1000).toFixed(1);
const work = mkdtempSync(join(tmpdir(), 'ncb-package-test-'));
const results = [];
const engineWarnings = new Set();

/** A check's own verdict: printed without a stack. */
class CheckFailed extends Error {}

/** Runs one named check; a thrown error fails it (and is printed), the others still run. */
async function check(name, fn) {
  const t0 = performance.now();
  try {
    const note = await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${seconds(t0)} s)${note ? `: ${note}` : ''}`);
  } catch (error) {
    results.push({ name, ok: false });
    const plain = error instanceof CommandError || error instanceof CheckFailed;
    console.log(`FAIL ${name} (${seconds(t0)} s)\n${plain ? error.message : error.stack}`);
  }
}

const tsc = (cwd, args, { typescript = 'typescript', expect = [0] } = {}) =>
  runAsync('node', [join(cwd, 'node_modules', typescript, 'bin/tsc'), ...args], { cwd, expect });

async function install(dir, specs) {
  const { stderr } = await runAsync(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'warn', ...specs],
    { cwd: dir },
  );
  for (const match of stderr.matchAll(/EBADENGINE\s+package: '([^']+)'/g)) {
    engineWarnings.add(match[1]);
  }
}

/** Copies fixtures/<name> (and the shared Nest app for the app projects) into the temp folder. */
function lay(name) {
  const dir = join(work, name);
  cpSync(join(fixtures, name), dir, { recursive: true });
  if (name.endsWith('-app')) {
    cpSync(join(fixtures, 'nest-app'), join(dir, 'src/app'), { recursive: true });
  }
  return dir;
}

/** The packages npm installed in `dir` (from its lockfile, less the project itself). */
const installedPackages = (dir) =>
  Object.keys(readJson(join(dir, 'package-lock.json')).packages)
    .filter((path) => path !== '')
    .map((path) => path.replace(/^.*node_modules\//, ''));
const presentIn = (dir, names) =>
  names.filter((name) => existsSync(join(dir, 'node_modules', name)));

async function runApp(dir, label) {
  const { stdout, stderr } = await runAsync('node', ['dist/main.js'], { cwd: dir });
  if (!stdout.includes(`${label}: booted`)) throw new CheckFailed(`unexpected output:\n${stdout}`);
  if (stderr.trim() !== '') throw new CheckFailed(`printed on stderr (a warning?):\n${stderr}`);
  return stdout.trim();
}

// [name, TypeScript package, file, options, the error the case must fail with]
const MATRIX = [
  ['6.0 node16 from ESM', 'typescript', 'imports.mts', ['--module', 'node16']],
  ['6.0 node20 from CJS', 'typescript', 'imports.cts', ['--module', 'node20']],
  ['6.0 nodenext from ESM', 'typescript', 'imports.mts', ['--module', 'nodenext']],
  ['6.0 nodenext from CJS', 'typescript', 'imports.cts', ['--module', 'nodenext']],
  ['6.0 bundler', 'typescript', 'imports.ts', ['--module', 'preserve']],
  ['6.0 commonjs (resolves as bundler)', 'typescript', 'imports.ts', ['--module', 'commonjs']],
  [
    '6.0 node10',
    'typescript',
    'imports.ts',
    ['--module', 'commonjs', '--moduleResolution', 'node10'],
  ],
  ['5.9 node10 (commonjs default)', 'typescript5', 'imports.ts', ['--module', 'commonjs']],
  ['5.9 nodenext from CJS', 'typescript5', 'imports.cts', ['--module', 'nodenext']],
  [
    '5.9 bundler',
    'typescript5',
    'imports.ts',
    ['--module', 'esnext', '--moduleResolution', 'bundler'],
  ],
  // Node 16 had no require(esm), and TypeScript's node16 mode refuses it from CommonJS (it does the
  // same for @nestjs/common): a CommonJS app needs node20 or nodenext, or commonjs.
  ['6.0 node16 from CJS', 'typescript', 'imports.cts', ['--module', 'node16'], 'TS1479'],
];
// The apps above check the package's declaration files under strict settings (skipLibCheck off);
// here what matters is resolution, so skipLibCheck is on (a third of the time) and --listFiles
// shows what was resolved: an import that fails inside a declaration file would otherwise pass
// silently as `any`. The @ts-expect-error lines in imports.ts catch an entry point typed `any`.
const MATRIX_COMMON = [
  '--noEmit',
  '--strict',
  '--exactOptionalPropertyTypes',
  '--skipLibCheck',
  '--types',
  'node',
];
const MATRIX_OPTIONS = {
  typescript: [...MATRIX_COMMON, '--listFiles', '--ignoreDeprecations', '6.0'],
  typescript5: [...MATRIX_COMMON, '--listFiles'],
};
/** What every passing case's program must hold: the eight entry points' types, and the peers'. */
const MATRIX_MUST_LOAD = [
  'nestjs-circuit-breaker/dist/index.d.ts',
  'nestjs-circuit-breaker/dist/core/index.d.ts',
  'nestjs-circuit-breaker/dist/health/index.d.ts',
  'nestjs-circuit-breaker/dist/ops/index.d.ts',
  'nestjs-circuit-breaker/dist/prometheus/index.d.ts',
  'nestjs-circuit-breaker/dist/opentelemetry/index.d.ts',
  'nestjs-circuit-breaker/dist/redis/index.d.ts',
  'nestjs-circuit-breaker/dist/testing/index.d.ts',
  '@nestjs/common/',
  '@nestjs/core/',
  '@nestjs/terminus/',
  'ioredis/',
  'prom-client/',
  '@opentelemetry/api/',
  'rxjs/',
];

/** Runs one matrix case; resolves to { problem } or { ours: the package's files it loaded }. */
async function matrixCase(dir, [name, typescript, file, options, mustFail]) {
  const args = [...MATRIX_OPTIONS[typescript], ...options, file];
  let result;
  try {
    result = await tsc(dir, args, { typescript, expect: mustFail ? [0, 1, 2] : [0] });
  } catch (error) {
    // Without the --listFiles lines, which would bury the errors.
    const errors = error.result.stdout.split('\n').filter((line) => !line.startsWith('/'));
    return { problem: `${name}: tsc exited ${error.result.status}\n${errors.join('\n')}` };
  }
  const { status, stdout } = result;
  if (mustFail) {
    return status !== 0 && stdout.includes(mustFail)
      ? {}
      : { problem: `${name}: must fail with ${mustFail}, exited ${status}\n${stdout}` };
  }
  const loaded = stdout
    .split('\n')
    .filter((line) => line.includes('/node_modules/'))
    .map((line) => line.slice(line.lastIndexOf('/node_modules/') + '/node_modules/'.length));
  const missing = MATRIX_MUST_LOAD.filter((want) => !loaded.some((path) => path.startsWith(want)));
  if (missing.length > 0) return { problem: `${name}: did not load ${missing.join(', ')}` };
  return { ours: loaded.filter((path) => path.startsWith('nestjs-circuit-breaker/')).length };
}

try {
  let tarball;
  await check('npm pack (prepack builds)', () => {
    const packed = pack(work);
    tarball = packed.tarball;
    const js = packed.files.filter((file) => file.startsWith('dist/') && file.endsWith('.js'));
    if (js.length === 0)
      throw new CheckFailed(`no built code in the tarball: ${packed.files.join(', ')}`);
    return `${packed.files.length} files, ${kB(packed.size)} packed, ${kB(packed.unpackedSize)} unpacked`;
  });
  if (tarball === undefined) throw new CheckFailed('nothing to test without a tarball');

  // The installs first, side by side (mostly waiting on npm's cache and the registry).
  const withTools = [...ALL_PEERS, ...TOOLS].map(locked);
  const dirs = {};
  let coreFootprint;
  await check('npm install of the tarball into 5 consumer projects', async () => {
    const plan = {
      'esm-app': withTools,
      'cjs-app': [...withTools, TYPESCRIPT_5],
      'types-matrix': [...withTools, TYPESCRIPT_5],
      'core-only': [],
      'otel-only': [locked('@opentelemetry/api')],
    };
    await inParallel(Object.entries(plan), async ([name, specs]) => {
      dirs[name] = lay(name);
      await install(dirs[name], [tarball, ...specs]);
      if (name === 'core-only') {
        // Measured before the dev tools below join it.
        const packages = installedPackages(dirs[name]);
        const size = MB(sizeOf(join(dirs[name], 'node_modules')));
        coreFootprint = `${packages.length} packages, ${size} (${packages.join(', ')})`;
      }
    });
    return Object.keys(plan).join(', ');
  });

  await check(
    'esm-app: strict tsc, boot, decorated calls through an outage, health, close',
    async () => {
      await tsc(dirs['esm-app'], ['-p', '.']);
      return runApp(dirs['esm-app'], 'esm-app');
    },
  );

  await check(
    'cjs-app: strict tsc ("module": "commonjs"; and TS 5.9), run via require(esm)',
    async () => {
      const dir = dirs['cjs-app'];
      await tsc(dir, ['-p', '.']);
      await tsc(dir, ['-p', '.', '--noEmit'], { typescript: 'typescript5' });
      return runApp(dir, 'cjs-app');
    },
  );

  await check('types-matrix: every entry point under each moduleResolution', async () => {
    const dir = dirs['types-matrix'];
    copyFileSync(join(dir, 'imports.ts'), join(dir, 'imports.mts'));
    copyFileSync(join(dir, 'imports.ts'), join(dir, 'imports.cts'));
    const outcomes = await inParallel(MATRIX, (entry) => matrixCase(dir, entry));
    const problems = outcomes.map((outcome) => outcome.problem).filter(Boolean);
    // Each resolution mode must load the same declaration files of the package.
    const counts = new Set(outcomes.map((outcome) => outcome.ours).filter(Boolean));
    if (counts.size > 1) problems.push(`the package's files loaded differ: ${[...counts]}`);
    // The control: without typesVersions, node10 cannot find the subpaths; so the node10 cases
    // above do check something. (Runs last: it edits the installed package.json.)
    const manifestPath = join(dir, 'node_modules/nestjs-circuit-breaker/package.json');
    const manifest = readJson(manifestPath);
    delete manifest.typesVersions;
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const control = await matrixCase(dir, [
      'control: 5.9 node10 without typesVersions',
      'typescript5',
      'imports.ts',
      ['--module', 'commonjs'],
      "Cannot find module 'nestjs-circuit-breaker/core'",
    ]);
    if (control.problem) problems.push(control.problem);
    if (problems.length > 0) throw new CheckFailed(problems.join('\n'));
    return `${MATRIX.length} cases and the control; ${[...counts]} declaration files each`;
  });

  await check(
    'core-only: no Nest peer installed; /core runs from ESM and CJS, type-checks',
    async () => {
      const dir = dirs['core-only'];
      const present = presentIn(dir, ALL_PEERS);
      if (present.length > 0)
        throw new CheckFailed(`installed although optional: ${present.join(', ')}`);
      const cjs = (await runAsync('node', ['require.cjs'], { cwd: dir })).stdout.trim();
      await install(dir, ['--save-dev', ...TOOLS.map(locked)]);
      const after = presentIn(dir, ALL_PEERS);
      if (after.length > 0)
        throw new CheckFailed(`installed with the dev tools: ${after.join(', ')}`);
      await tsc(dir, ['-p', '.']);
      const esm = (await runAsync('node', ['dist/main.js'], { cwd: dir })).stdout.trim();
      return `${coreFootprint}\n     ${cjs}\n     ${esm}`;
    },
  );

  await check('otel-only: no Nest peer installed; /opentelemetry runs', async () => {
    const dir = dirs['otel-only'];
    const present = presentIn(dir, NEST_PEERS);
    if (present.length > 0)
      throw new CheckFailed(`installed although optional: ${present.join(', ')}`);
    return (await runAsync('node', ['main.mjs'], { cwd: dir })).stdout.trim();
  });

  await check('engine warnings at install: none for this package', () => {
    const ours = [...engineWarnings].filter((name) => name.startsWith('nestjs-circuit-breaker@'));
    if (ours.length > 0) throw new CheckFailed(`EBADENGINE for ${ours.join(', ')}`);
    const others = [...engineWarnings].sort().join(', ');
    return others ? `npm printed EBADENGINE for ${others} (dependencies of peers)` : 'none';
  });
} catch (error) {
  results.push({ name: 'setup', ok: false });
  console.log(`FAIL setup\n${error instanceof CommandError ? error.message : error.stack}`);
} finally {
  if (process.env.KEEP_PACKAGE_TEST === '1') console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

const failed = results.filter((result) => !result.ok);
console.log(`test:package took ${seconds(started)} s`);
console.log(`package: ${results.length - failed.length} passed, ${failed.length} failed`);
if (failed.length > 0) {
  console.log(`failed: ${failed.map((result) => result.name).join('; ')}`);
  process.exit(1);
}
