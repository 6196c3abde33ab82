// Shared by lint-package.mjs and run.mjs: run a command, pack the repository as npm would publish
// it, read the tarball. Plain Node.js ESM, so that it runs without a build.
import { Buffer } from 'node:buffer';
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
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

/** `run`, without blocking: resolves to { status, stdout, stderr } or rejects with a CommandError. */
export function runAsync(command, args, { cwd, expect = [0], env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env } });
    const out = [];
    const err = [];
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => err.push(chunk));
    let settled = false;
    const settle = (status, error) => {
      if (settled) return;
      settled = true;
      const result = {
        status,
        error,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (error || !expect.includes(status)) {
        reject(new CommandError([command, ...args].join(' '), result));
      } else resolve(result);
    };
    child.on('error', (error) => settle(null, error));
    child.on('close', (status) => settle(status));
  });
}

/** Maps `items` through `fn` with at most one call per CPU core running at a time. */
export async function inParallel(items, fn, limit = availableParallelism()) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
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
