import { describeValue } from '../core/internal.js';
import type { CircuitBreakerOpsGuard } from './circuit-breaker-ops-options.interface.js';

/** The options with their defaults applied, checked. */
export interface ResolvedOpsOptions {
  /** The route prefix, without leading or trailing slashes (`''` for the root). */
  readonly path: string;
  readonly guards: readonly CircuitBreakerOpsGuard[];
  readonly dashboard: boolean;
  readonly eventBufferSize: number;
  readonly streamSummaryInterval: number;
}

const KNOWN = new Set([
  'path',
  'guards',
  'allowUnguarded',
  'dashboard',
  'eventBufferSize',
  'streamSummaryInterval',
  'imports',
]);

/** A path segment of letters, digits and `-._~`: no route parameter or wildcard. */
const PATH = /^[A-Za-z0-9\-._~]+(\/[A-Za-z0-9\-._~]+)*$/;

function fail(option: string, expected: string, received: unknown): never {
  throw new TypeError(
    `CircuitBreakerOpsModule.forRoot(): option "${option}" must be ${expected}, received ` +
      describeValue(received),
  );
}

/** Whether `value` can be given to `@UseGuards()`: a class, or an object with `canActivate`. */
export function isGuard(value: unknown): value is CircuitBreakerOpsGuard {
  if (typeof value === 'function') return true;
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { canActivate?: unknown }).canActivate === 'function'
  );
}

/** The route prefix of `path` (slashes trimmed), or `undefined` if it is not a valid one. */
export function routePrefix(path: unknown): string | undefined {
  if (path === undefined) return 'actuator';
  if (typeof path !== 'string') return undefined;
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  return trimmed === '' || PATH.test(trimmed) ? trimmed : undefined;
}

function integer(option: string, value: unknown, fallback: number, min: number, max: number) {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(option, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

function flag(option: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') fail(option, 'true or false', value);
  return value;
}

/** Checks the options and applies the defaults; throws a `TypeError` naming a bad option. */
export function resolveOpsOptions(options: unknown): ResolvedOpsOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(
      'CircuitBreakerOpsModule.forRoot() expects an options object with `guards` (or ' +
        `allowUnguarded: true), received ${describeValue(options)}`,
    );
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) {
      fail(key, `one of the known options (${[...KNOWN].join(', ')}); it is not one`, o[key]);
    }
  }
  const path = routePrefix(o.path);
  if (path === undefined) {
    fail('path', "a route prefix of letters, digits, '-', '.', '_', '~' and '/'", o.path);
  }
  const allowUnguarded = flag('allowUnguarded', o.allowUnguarded);
  const guards = o.guards ?? [];
  if (!Array.isArray(guards)) fail('guards', 'an array of guard classes or instances', guards);
  guards.forEach((guard: unknown, i) => {
    if (!isGuard(guard)) {
      fail(`guards[${i}]`, 'a guard class or an object with a canActivate() method', guard);
    }
  });
  if (guards.length === 0 && !allowUnguarded) {
    throw new TypeError(
      'CircuitBreakerOpsModule.forRoot(): the ops endpoints can force breakers open, so they ' +
        'need at least one guard in option "guards" (received ' +
        `${describeValue(o.guards)}); pass allowUnguarded: true to serve them without one`,
    );
  }
  return {
    path,
    guards: guards as CircuitBreakerOpsGuard[],
    dashboard: flag('dashboard', o.dashboard),
    eventBufferSize: integer('eventBufferSize', o.eventBufferSize, 100, 1, 100_000),
    streamSummaryInterval: integer(
      'streamSummaryInterval',
      o.streamSummaryInterval,
      1_000,
      100,
      3_600_000,
    ),
  };
}
