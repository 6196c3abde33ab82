// The public API, recorded: `npm run lint:api` checks that the declarations of every entry point in
// package.json "exports" still match the committed reports in api/ (an accidental change to the
// API fails CI); `npm run api:update` rewrites the reports after a deliberate one, to be reviewed
// and committed with it. API Extractor (@microsoft/api-extractor) reads the declarations that
// `tsc -p tsconfig.build.json` writes, built here into dist-api/ so that dist/ is left alone.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const update = process.argv.includes('--update');
const out = join(root, 'dist-api');
const reports = join(root, 'api');

rmSync(out, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [
    join(root, 'node_modules/typescript/bin/tsc'),
    ...['-p', 'tsconfig.build.json', '--outDir', out, '--emitDeclarationOnly'],
    ...['--sourceMap', 'false', '--declarationMap', 'false'],
  ],
  { cwd: root, stdio: 'inherit' },
);
mkdirSync(reports, { recursive: true });

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const entries = Object.entries(pkg.exports).filter(([, target]) => typeof target === 'object');
let failed = 0;
for (const [subpath, target] of entries) {
  // "./core" → core.api.md; "." → index.api.md
  const name = subpath === '.' ? 'index' : subpath.slice(2).replaceAll('/', '-');
  const typings = join(out, relative('dist', target.types));
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: root,
      mainEntryPointFilePath: typings,
      bundledPackages: [],
      compiler: { tsconfigFilePath: join(root, 'tsconfig.build.json') },
      apiReport: {
        enabled: true,
        reportFileName: `${name}.api.md`,
        reportFolder: reports,
        reportTempFolder: join(out, 'temp'),
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        // The report is the point. A type the API uses but no entry exports is written into the
        // report (a reviewer sees it there); doc-comment style and release tags are not checked.
        extractorMessageReporting: {
          default: { logLevel: 'none' },
          'ae-forgotten-export': { logLevel: 'none', addToApiReportFile: true },
        },
        tsdocMessageReporting: { default: { logLevel: 'none' } },
        compilerMessageReporting: { default: { logLevel: 'error' } },
      },
    },
    configObjectFullPath: join(root, 'scripts', `api-extractor.${name}.json`),
    packageJsonFullPath: join(root, 'package.json'),
  });
  const result = Extractor.invoke(config, { localBuild: update, showVerboseMessages: false });
  if (result.apiReportChanged && !update) {
    failed++;
    console.error(
      `api/${name}.api.md: the public API of "${subpath}" changed. If that was meant, run ` +
        '`npm run api:update` and commit the report with the change.',
    );
  } else if (result.errorCount > 0) {
    failed++;
    console.error(`"${subpath}": API Extractor reported ${result.errorCount} error(s).`);
  } else {
    console.log(`${subpath}: ${update ? 'report written' : 'matches'} api/${name}.api.md`);
  }
}
rmSync(out, { recursive: true, force: true });
process.exit(failed === 0 ? 0 : 1);
