/**
 * The engine's package-internal entry: what this package's own layers (the Nest glue, `./health`,
 * `./redis`) use beyond the public API in `./index.ts`. It is not in package.json "exports": nothing
 * here is a promise to users, and any of it may change in any release. Outside `lib/core`, import
 * the engine only from `index.ts` or this file (`npm run lint:structure` checks it).
 */
export * from './index.js';
export { Circuit } from './circuit.js';
export { closestName, describeValue } from './describe.js';
export { forceState } from './force-state.js';
export { mergeBreakerOptions } from './merge-options.js';
export {
  collapsesSuccesses,
  scriptedOptions,
  scriptParams,
  slowCallDurationOf,
  TRIP_POLICY_LUA,
} from './policies/index.js';
export { DEFAULTS } from './resolved-options.js';
export { isThenable } from './thenable.js';
export {
  BREAKER_OPTION_NAMES,
  resolveBreakerOptions,
  validateOptionValues,
} from './validate-options.js';
export {
  minimumCallsOf,
  rateThresholds,
  type WindowReport,
  windowReport,
} from './window-report.js';
