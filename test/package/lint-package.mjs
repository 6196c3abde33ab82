// `npm run lint:package`: the tarball npm would publish, linted. Packs the repository once (with
// dist/ removed first, so that only the prepack script can put code in it), then checks:
//   - the files package.json names (exports, main, types, typesVersions) are in the tarball;
//   - publint, warnings counting as errors;
//   - Are the Types Wrong (attw) on node10, node16 (CJS and ESM) and bundler resolution, with one
//     rule ignored: cjs-resolves-to-esm (see ATTW_IGNORED below);
//   - every source map resolves each of its sources to a file in the tarball (or embeds it), and
//     every sourceMappingURL comment names a map in the tarball.
// Exits non-zero, naming what failed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CommandError, extract, kB, pack, readJson, repoRoot, run } from './helpers.mjs';

// The package is ESM only, like NestJS 12 itself. attw models "node16 (from CJS)" as Node 16,
// where require() cannot load ESM, and reports CJSResolvesToESM. Node 20.19+ (our engines floor)
// loads it with require(esm), and TypeScript models that under "module": "node20" (5.9+) and
// "nodenext" (5.8+) and under "module": "commonjs"; test/package/run.mjs compiles and runs a
// CommonJS consumer to prove it, and shows that "module": "node16" from CommonJS still fails (as it
// does for @nestjs/common). Every other rule, including node10 resolution of the subpaths (through
// typesVersions), stays on; that is why this is an ignored rule and not `--profile esm-only`,
// which would stop checking node10 as well.
const ATTW_IGNORED = ['cjs-resolves-to-esm'];

const started = performance.now();
const failures = [];
const check = (name, fn) => {
  try {
    const note = fn();
    console.log(`ok   ${name}${note ? ` (${note})` : ''}`);
  } catch (error) {
    failures.push(name);
    console.log(`FAIL ${name}\n${error instanceof CommandError ? error.message : error.stack}`);
  }
};

const work = mkdtempSync(join(tmpdir(), 'ncb-lint-package-'));
try {
  rmSync(join(repoRoot, 'dist'), { recursive: true, force: true });
  const packed = pack(work);
  const files = new Set(packed.files);
  console.log(
    `== ${packed.tarball}: ${files.size} files, ${kB(packed.size)} packed, ${kB(packed.unpackedSize)} unpacked`,
  );
  const root = extract(packed.tarball, work);

  check('the tarball holds the built code and every file package.json names', () => {
    const manifest = readJson(join(root, 'package.json'));
    const targets = new Set([manifest.main, manifest.types]);
    const collect = (value) => {
      if (typeof value === 'string') targets.add(value);
      else if (value && typeof value === 'object') Object.values(value).forEach(collect);
    };
    collect(manifest.exports);
    collect(manifest.typesVersions);
    targets.delete(undefined);
    const missing = [...targets].filter((target) => !files.has(posix.normalize(target)));
    if (missing.length > 0) throw new Error(`not in the tarball: ${missing.join(', ')}`);
    for (const required of ['LICENSE', 'README.md', 'package.json']) {
      if (!files.has(required)) throw new Error(`${required} is not in the tarball`);
    }
    return `${targets.size} targets`;
  });

  check('publint --strict', () => {
    run('npx', ['--no-install', 'publint', 'run', packed.tarball, '--strict'], { cwd: repoRoot });
  });

  check(`attw (ignoring ${ATTW_IGNORED.join(', ')})`, () => {
    const { stdout } = run(
      'npx',
      ['--no-install', 'attw', packed.tarball, '--ignore-rules', ...ATTW_IGNORED, '--no-color'],
      { cwd: repoRoot },
    );
    console.log(stdout.trim());
  });

  check('source maps resolve inside the tarball', () => {
    const problems = [];
    let maps = 0;
    let sources = 0;
    for (const file of files) {
      const text = readFileSync(join(root, file), 'utf8');
      if (file.endsWith('.map')) {
        maps++;
        const map = JSON.parse(text);
        map.sources.forEach((source, i) => {
          sources++;
          if (typeof map.sourcesContent?.[i] === 'string') return;
          const resolved = posix.normalize(
            posix.join(posix.dirname(file), map.sourceRoot ?? '', source),
          );
          if (!files.has(resolved)) problems.push(`${file}: source ${source} -> ${resolved}`);
        });
      } else if (/\.(c|m)?js$|\.d\.(c|m)?ts$/.test(file)) {
        const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1];
        if (url === undefined || url.startsWith('data:')) continue;
        const resolved = posix.normalize(posix.join(posix.dirname(file), url));
        if (!files.has(resolved)) problems.push(`${file}: sourceMappingURL ${url} -> ${resolved}`);
      }
    }
    if (maps === 0) throw new Error('no source maps in the tarball (the build makes them)');
    if (problems.length > 0) {
      throw new Error(`${problems.length} unresolved:\n${problems.slice(0, 20).join('\n')}`);
    }
    return `${maps} maps, ${sources} sources`;
  });
} catch (error) {
  failures.push('pack');
  console.log(`FAIL pack\n${error instanceof CommandError ? error.message : error.stack}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (failures.length > 0) {
  console.log(`lint:package failed in ${seconds} s: ${failures.join('; ')}`);
  process.exit(1);
}
console.log(`lint:package clean in ${seconds} s`);
