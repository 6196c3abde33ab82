// Shared by lint-package.mjs and run.mjs: run a command, pack the repository as npm would publish
// it, read the tarball. Plain Node.js ESM, so that it runs without a build.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, URL } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** A failed command, with what it printed. */
export class CommandError extends Error {
  constructor(command, result) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
    super(
      `\`${command}\` ${result.error ? `could not start: ${result.error.message}` : `exited ${result.status}`}` +
        (output ? `\n${indent(output)}` : ''),
    );
    this.result = result;
  }
}

export const indent = (text) =>
  text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');

/**
 * Runs a command to completion and returns { status, stdout, stderr }; throws a CommandError
 * unless it exits with one of `expect` (default: 0).
 */
export function run(command, args, { cwd, expect = [0], env } = {}) {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error || !expect.includes(result.status)) {
    throw new CommandError([command, ...args].join(' '), result);
  }
  return result;
}

/**
 * `npm pack` of the repository into `destination`: runs the prepack script (a clean build), as
 * `npm publish` would. Returns the tarball's path and npm's account of it.
 */
export function pack(destination) {
  const { stdout } = run('npm', ['pack', '--json', '--pack-destination', destination], {
    cwd: repoRoot,
  });
  const [info] = JSON.parse(stdout);
  return {
    tarball: join(destination, info.filename),
    files: info.files.map((file) => file.path),
    size: info.size,
    unpackedSize: info.unpackedSize,
  };
}

/** Extracts a tarball into `destination` (npm tarballs hold one folder, `package/`). */
export function extract(tarball, destination) {
  run('tar', ['-xzf', tarball, '-C', destination]);
  return join(destination, 'package');
}

/** Every file under `dir`, as paths relative to it with `/` separators. */
export function listFiles(dir, prefix = '') {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? listFiles(join(dir, entry.name), `${prefix}${entry.name}/`)
      : [`${prefix}${entry.name}`],
  );
}

/** Total size in bytes of the files under `dir`. */
export function sizeOf(dir) {
  return listFiles(dir).reduce((total, file) => total + statSync(join(dir, file)).size, 0);
}

export const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

export const kB = (bytes) => `${(bytes / 1024).toFixed(1)} kB`;
export const MB = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
