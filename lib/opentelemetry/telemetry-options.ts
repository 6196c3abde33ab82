import { type Meter, metrics } from '@opentelemetry/api';
import { closestName, describeValue } from '../core/internal.js';
import type { CircuitBreakerTelemetryOptions } from './circuit-breaker-telemetry-options.interface.js';
import { METER_NAME, METER_VERSION } from './package-version.js';

/** The options with defaults applied and the meter chosen. */
export interface ResolvedTelemetryOptions {
  readonly meter: Meter;
  readonly prefix: string;
  readonly spanEvents: boolean;
  readonly maxKeysPerFamily: number;
}

const OPTION_NAMES: ReadonlyArray<keyof CircuitBreakerTelemetryOptions> = [
  'meterProvider',
  'meter',
  'prefix',
  'spanEvents',
  'maxKeysPerFamily',
];

/** The longest name after the prefix (`state_change.count`); the API allows 255 characters. */
const MAX_PREFIX_LENGTH = 255 - 'state_change.count'.length;

/** OpenTelemetry's instrument name syntax, for the start of a name. */
const PREFIX_SYNTAX = /^[A-Za-z][A-Za-z0-9_./-]*$/;

const hasMethods = (value: unknown, names: readonly string[]): boolean =>
  typeof value === 'object' &&
  value !== null &&
  names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');

/**
 * Checks the options, throwing a `TypeError` that names `caller`, the option, what was expected
 * and what was received. Reads no global: safe to call when a Nest module is defined.
 */
export function checkTelemetryOptions(options: unknown, caller: string): void {
  const fail = (what: string): never => {
    throw new TypeError(`${caller}: ${what}`);
  };
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    fail(`options must be an object, received ${describeValue(options)}`);
  }
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if ((OPTION_NAMES as readonly string[]).includes(key)) continue;
    const near = closestName(key, OPTION_NAMES);
    fail(
      `unknown option "${key}"${near === undefined ? '' : ` (did you mean "${near}"?)`}; ` +
        `the options are ${OPTION_NAMES.join(', ')}`,
    );
  }
  const { meterProvider, meter, prefix, spanEvents, maxKeysPerFamily } = given;
  if (meterProvider !== undefined && meter !== undefined) {
    fail('give meterProvider or meter, not both (meter is used as it is)');
  }
  if (meterProvider !== undefined && !hasMethods(meterProvider, ['getMeter'])) {
    fail(
      `meterProvider must be a MeterProvider (with getMeter()), received ${describeValue(meterProvider)}`,
    );
  }
  const meterMethods = ['createHistogram', 'createCounter', 'createObservableUpDownCounter'];
  if (meter !== undefined && !hasMethods(meter, meterMethods)) {
    fail(
      `meter must be a Meter (with ${meterMethods.join(', ')}), received ${describeValue(meter)}`,
    );
  }
  if (
    prefix !== undefined &&
    (typeof prefix !== 'string' || !PREFIX_SYNTAX.test(prefix) || prefix.length > MAX_PREFIX_LENGTH)
  ) {
    fail(
      'prefix must start an OpenTelemetry instrument name (a letter, then letters, digits, ' +
        `"_", ".", "-" or "/"; at most ${MAX_PREFIX_LENGTH} characters), received ${describeValue(prefix)}`,
    );
  }
  if (spanEvents !== undefined && typeof spanEvents !== 'boolean') {
    fail(`spanEvents must be a boolean, received ${describeValue(spanEvents)}`);
  }
  if (
    maxKeysPerFamily !== undefined &&
    (typeof maxKeysPerFamily !== 'number' ||
      !Number.isSafeInteger(maxKeysPerFamily) ||
      maxKeysPerFamily < 0)
  ) {
    fail(`maxKeysPerFamily must be an integer >= 0, received ${describeValue(maxKeysPerFamily)}`);
  }
}

/** Checks the options and applies the defaults; the global meter provider is read here. */
export function resolveTelemetryOptions(
  options: CircuitBreakerTelemetryOptions,
  caller: string,
): ResolvedTelemetryOptions {
  checkTelemetryOptions(options, caller);
  const meter =
    options.meter ??
    (options.meterProvider ?? metrics.getMeterProvider()).getMeter(METER_NAME, METER_VERSION);
  return {
    meter,
    prefix: options.prefix ?? 'circuit_breaker.',
    spanEvents: options.spanEvents ?? true,
    maxKeysPerFamily: options.maxKeysPerFamily ?? 100,
  };
}
