/**
 * Reads the JSON report of `npm run test:mutation` and prints, per mutated file, the mutation score
 * and counts, then every surviving (and uncovered) mutant as `file:line:column mutator: original →
 * replacement`. Usage: node test/mutation/survivors.mjs [reports/mutation/mutation.json] [filter]
 * (filter: a substring a file's path must contain, e.g. lib/core/policies/).
 */
import { readFileSync } from 'node:fs';

const [reportPath = 'reports/mutation/mutation.json', filter = ''] = process.argv.slice(2);
const report = JSON.parse(readFileSync(reportPath, 'utf8'));

const undetected = new Set(['Survived', 'NoCoverage']);
const one = (s) => s.replace(/\s*\n\s*/g, ' ');

/** The source text a mutant replaces, from its 1-based line and column location. */
function original(source, { start, end }) {
  const lines = source.split('\n');
  if (start.line === end.line) return lines[start.line - 1].slice(start.column - 1, end.column - 1);
  const text = [lines[start.line - 1].slice(start.column - 1)];
  for (let l = start.line; l < end.line - 1; l++) text.push(lines[l]);
  text.push(lines[end.line - 1].slice(0, end.column - 1));
  return text.join('\n');
}

const clip = (s, n = 90) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const score = (c) => {
  const valid = c.Killed + c.Timeout + c.Survived + c.NoCoverage;
  return valid === 0 ? 'n/a' : `${((100 * (c.Killed + c.Timeout)) / valid).toFixed(2)}%`;
};
const zero = () => ({
  Killed: 0,
  Timeout: 0,
  Survived: 0,
  NoCoverage: 0,
  CompileError: 0,
  RuntimeError: 0,
  Ignored: 0,
});

const total = zero();
const rows = [];
const survivors = [];
for (const [file, { source, mutants }] of Object.entries(report.files).sort()) {
  if (!file.includes(filter)) continue;
  const counts = zero();
  for (const m of mutants) {
    counts[m.status] = (counts[m.status] ?? 0) + 1;
    total[m.status] = (total[m.status] ?? 0) + 1;
    if (undetected.has(m.status)) {
      const { line, column } = m.location.start;
      const was = clip(one(original(source, m.location)));
      const now = clip(one(m.replacement ?? ''));
      const tag = m.status === 'NoCoverage' ? ' [no coverage]' : '';
      survivors.push({
        file,
        line,
        text: `${file}:${line}:${column} ${m.mutatorName}${tag}: ${was} → ${now}`,
      });
    }
  }
  rows.push([file, score(counts), counts]);
}
rows.push(['all files', score(total), total]);

console.log(
  'file | score | killed | timeout | survived | no coverage | compile errors | runtime errors',
);
for (const [file, s, c] of rows) {
  console.log(
    `${file} | ${s} | ${c.Killed} | ${c.Timeout} | ${c.Survived} | ${c.NoCoverage} | ${c.CompileError} | ${c.RuntimeError}`,
  );
}
console.log(`\nsurviving mutants (${survivors.length}):`);
survivors.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
for (const s of survivors) console.log(s.text);
