/**
 * The README's "Testing" section shows its vitest example and configuration exactly as CI runs
 * them (`npm run test:vitest`); the jest example is checked by test/readme.spec.ts. And the vitest
 * run is wired: a script, run by .ci/run after `npm test`, over `*.vitest.ts` files only.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

function testingSection(): string {
  const readme = read('README.md');
  const start = readme.indexOf('\n## Testing\n');
  const end = readme.indexOf('\n## ', start + 1);
  expect(start).toBeGreaterThan(0);
  return readme.slice(start, end);
}

function blocks(section: string, lang: string): string[] {
  return [...section.matchAll(new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\``, 'gm'))].map(
    (m) => m[1]!,
  );
}

describe('README Testing section', () => {
  it('shows the vitest example exactly as test/readme/testing-example.vitest.ts runs it', () => {
    const ts = blocks(testingSection(), 'ts');
    expect(ts).toHaveLength(2);
    expect(ts[0]).toBe(read('test/readme/testing-example.spec.ts'));
    expect(ts[1]).toBe(read('test/readme/testing-example.vitest.ts'));
  });

  it('shows the vitest configuration exactly as vitest.config.mjs is', () => {
    expect(blocks(testingSection(), 'js')).toEqual([read('vitest.config.mjs')]);
  });

  it('runs the vitest example in CI, after npm test, and only *.vitest.ts files', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> })
      .scripts;
    expect(scripts['test:vitest']).toBe('vitest run --config vitest.config.mjs');
    const ci = read('.ci/run')
      .split('\n')
      .map((line) => line.trim());
    const test = ci.indexOf('npm ci && npm test || exit 1');
    expect(test).toBeGreaterThan(0);
    expect(ci.indexOf('npm run test:vitest')).toBeGreaterThan(test);
    expect(read('vitest.config.mjs')).toContain("include: ['test/**/*.vitest.ts']");
  });
});
