import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

describe('README', () => {
  it('shows the engine quick start exactly as sample/00-engine-quick-start/main.ts runs it', () => {
    const readme = read('README.md');
    const block = /## Quick start \(engine\)\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    expect(block).toBe(read('sample/00-engine-quick-start/main.ts'));
  });

  it('gives the test command that .ci/run runs', () => {
    expect(read('README.md')).toContain('npm ci && npm test');
    expect(read('.ci/run')).toMatch(/^npm test$/m);
  });

  it('gives the main command, and package.json has it', () => {
    expect(read('README.md')).toContain('npm ci && npm run sample');
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> })
      .scripts;
    expect(scripts.sample).toContain('01-flaky-downstream');
  });
});
