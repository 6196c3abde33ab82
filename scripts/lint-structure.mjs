// The shape of lib/, checked (`npm run lint:structure`, run by CI):
//  - no import cycle, and lib/core imports nothing from Nest or the layers above it
//    (dependency-cruiser, rules in .dependency-cruiser.cjs), and lib/prometheus and
//    lib/opentelemetry load no Nest code at run time (engine users import them);
//  - no file in lib/ over 400 lines: past that a file is doing more than one job;
//  - no block of 6 or more lines repeated inside lib/ (jscpd): one idea, one place.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MAX_LINES = 400;
const bin = (name) => join(root, 'node_modules', '.bin', name);
let failed = false;

function run(title, command, args) {
  try {
    execFileSync(command, args, { cwd: root, stdio: 'inherit' });
    console.log(`ok: ${title}`);
  } catch {
    failed = true;
    console.error(`FAILED: ${title}`);
  }
}

run('imports (no cycle; lib/core framework-free)', bin('depcruise'), [
  'lib',
  '--config',
  '.dependency-cruiser.cjs',
  '--output-type',
  'err',
]);

const files = readdirSync(join(root, 'lib'), { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
  .map((entry) => join(entry.parentPath, entry.name));
const long = files
  .map((file) => ({ file, lines: readFileSync(file, 'utf8').split('\n').length - 1 }))
  .filter(({ lines }) => lines > MAX_LINES);
for (const { file, lines } of long) {
  console.error(`${relative(root, file)}: ${lines} lines (at most ${MAX_LINES})`);
}
if (long.length > 0) failed = true;
console.log(`${long.length === 0 ? 'ok' : 'FAILED'}: file sizes (at most ${MAX_LINES} lines)`);

run('no repeated block of 6+ lines in lib/', bin('jscpd'), [
  ...['--min-lines', '6', '--min-tokens', '40', '--format', 'typescript'],
  ...['--threshold', '0', '--reporters', 'console', '--silent', '--exit-code', '1', 'lib'],
]);

process.exit(failed ? 1 : 0);
