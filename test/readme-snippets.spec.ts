/**
 * Every ```ts block of the README is what users paste first: each must be complete (imports
 * included) and compile as written, under the project's strict settings, importing the package by
 * its published name. Each block is type-checked as a module of its own, in memory.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

interface Block {
  readonly line: number;
  readonly code: string;
  readonly file: string;
}

const blocks: Block[] = [...readme.matchAll(/^```ts\n([\s\S]*?)^```/gm)].map((match, i) => {
  const line = readme.slice(0, match.index).split('\n').length;
  return { line, code: match[1]!, file: join(root, 'readme-snippets', `block-${i + 1}.ts`) };
});

/** The diagnostics of every block, by file, from one program over all of them. */
function typeCheck(): Map<string, string[]> {
  const configPath = join(root, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const options: ts.CompilerOptions = { ...parsed.options, noEmit: true, types: ['node'] };
  const sources = new Map(blocks.map((b) => [b.file, b.code]));
  const host = ts.createCompilerHost(options, true);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (file) => sources.get(file) ?? readFile(file);
  host.fileExists = (file) => sources.has(file) || fileExists(file);
  host.getSourceFile = (file, language, onError, create) => {
    const code = sources.get(file);
    return code === undefined
      ? getSourceFile(file, language, onError, create)
      : ts.createSourceFile(file, code, language, true);
  };
  const program = ts.createProgram([...sources.keys()], options, host);
  const result = new Map<string, string[]>(blocks.map((b) => [b.file, []]));
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const file = diagnostic.file?.fileName;
    const list = file === undefined ? undefined : result.get(file);
    const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (list === undefined) {
      result.get(blocks[0]!.file)!.push(`(global) TS${diagnostic.code}: ${text}`);
      continue;
    }
    const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    list.push(`line ${line + 1}: TS${diagnostic.code}: ${text}`);
  }
  return result;
}

describe('README ts blocks', () => {
  const diagnostics = typeCheck();

  it('there are blocks to check', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(10);
  });

  it.each(blocks.map((b) => [b.line, b] as const))(
    'the block at README.md:%i compiles as written (strict)',
    (_line, block) => {
      expect(diagnostics.get(block.file)).toEqual([]);
    },
  );

  it.each(blocks.map((b) => [b.line, b] as const))(
    'the block at README.md:%i is a module with its imports (not a fragment)',
    (_line, block) => {
      expect(block.code).toMatch(/^import /m);
    },
  );
});
