import {
  isPlainObject,
  type SourcedLayer,
  validateLayer,
} from '../circuit-breaker-options.resolver.js';
import type { CircuitBreakerFinalLayers } from '../circuit-breaker.declarations.js';
import { closestName, describeValue, ManualClock } from '../core/internal.js';
import type { CircuitBreakerOptions } from '../interfaces/circuit-breaker-options.interface.js';
import type { CircuitBreakerTestingOptions } from './circuit-breaker-testing-options.interface.js';

const FOR_ROOT = 'CircuitBreakerTestingModule.forRoot()';
export const OVERRIDES_SOURCE = 'CircuitBreakerTestingModule.forRoot({ overrides })';
const CLOCK_SOURCE = 'CircuitBreakerTestingModule (its ManualClock)';
const KEYS = ['clock', 'overrides'];

/** The testing module's options, checked (`clock` as given, if given). */
export interface CheckedTestingOptions {
  readonly clock: ManualClock | undefined;
  readonly overrides: ReadonlyMap<string, CircuitBreakerOptions>;
}

/** The options one application runs with: its clock made if the test gave none. */
export interface ResolvedTestingOptions extends CheckedTestingOptions {
  readonly clock: ManualClock;
}

function invalid(option: string, expected: string, value: unknown): TypeError {
  return new TypeError(
    `${FOR_ROOT}: option "${option}" must be ${expected}, received ${describeValue(value)}`,
  );
}

/**
 * Checks `forRoot()`'s options: known keys, a `ManualClock`, and each override as a layer of
 * breaker options (the same checks as a declaration's; `extends` refused).
 * @throws TypeError for a bad key or clock; BreakerOptionsError for a bad override value.
 */
export function checkTestingOptions(input: unknown): CheckedTestingOptions {
  if (input === undefined) input = {};
  if (!isPlainObject(input)) throw invalid('options', 'an object', input);
  for (const key of Object.keys(input)) {
    if (KEYS.includes(key)) continue;
    const near = closestName(key, KEYS);
    throw invalid(
      key,
      `a known option (${KEYS.join(', ')})${near ? `: "${near}"?` : ''}`,
      input[key],
    );
  }
  const options = input as CircuitBreakerTestingOptions;
  const clock = options.clock;
  if (clock !== undefined && !(clock instanceof ManualClock)) {
    throw invalid('clock', 'a ManualClock (from nestjs-circuit-breaker)', clock);
  }
  const overrides = new Map<string, CircuitBreakerOptions>();
  if (options.overrides !== undefined && !isPlainObject(options.overrides)) {
    throw invalid('overrides', 'an object of breaker options by breaker name', options.overrides);
  }
  for (const [name, layer] of Object.entries(options.overrides ?? {})) {
    const site = { breaker: name, source: OVERRIDES_SOURCE };
    overrides.set(name, validateLayer(site, layer, { extends: false }));
  }
  return { clock, overrides };
}

/** The layers the registry lays over each breaker's own: the clock, then the test's overrides. */
export function finalLayers(options: ResolvedTestingOptions): CircuitBreakerFinalLayers {
  const clock: SourcedLayer = { layer: { clock: options.clock }, source: CLOCK_SOURCE };
  return (name) => {
    const override = options.overrides.get(name);
    return override === undefined
      ? [clock]
      : [clock, { layer: override, source: OVERRIDES_SOURCE }];
  };
}
