import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

/** The commands of the README's "Two commands for a fresh machine" block, comments removed. */
function freshMachineCommands(): string[] {
  const readme = read('README.md');
  const block = /## Two commands for a fresh machine\n[\s\S]*?```sh\n([\s\S]*?)```/.exec(
    readme,
  )?.[1];
  if (block === undefined)
    throw new Error('README has no "Two commands for a fresh machine" block');
  return block
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line !== '');
}

/** The lines of .ci/run that run something, comments and blank lines removed. */
function ciCommands(): string[] {
  return read('.ci/run')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

describe('README', () => {
  it('shows the engine quick start exactly as sample/00-engine-quick-start/main.ts runs it', () => {
    const readme = read('README.md');
    const block = /## Quick start \(engine\)\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    expect(block).toBe(read('sample/00-engine-quick-start/main.ts'));
  });

  it('shows the Nest testing example exactly as test/readme/testing-example.spec.ts runs it', () => {
    const readme = read('README.md');
    const block = /## Testing\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    expect(block).toBe(read('test/readme/testing-example.spec.ts'));
  });

  it('gives two commands for a fresh machine: the main job (npm run sample) and the tests', () => {
    expect(freshMachineCommands()).toEqual(['npm ci && npm run sample', 'npm ci && npm test']);
  });

  it('has .ci/run run both commands exactly as written, first, before any other npm step', () => {
    const commands = freshMachineCommands();
    const npmSteps = ciCommands().filter((line) => /^npm\b/.test(line));
    // Each README command is the start of a CI line (only a failure guard may follow it).
    expect(
      npmSteps.slice(0, commands.length).map((line) => line.replace(/ \|\| exit 1$/, '')),
    ).toEqual(commands);
    expect(npmSteps.indexOf('npm run build')).toBeGreaterThan(commands.length - 1);
  });

  it('names scripts that package.json has: sample runs sample/01, test runs jest', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> })
      .scripts;
    for (const command of freshMachineCommands()) {
      for (const [, script] of command.matchAll(/npm (?:run )?(\w[\w:-]*)/g)) {
        if (script === 'ci') continue;
        expect([script, scripts[script!] !== undefined]).toEqual([script, true]);
      }
    }
    expect(scripts.sample).toContain('01-flaky-downstream');
    expect(scripts.test).toContain('jest');
  });
});
