/** Injection token of the ops module's resolved options (`ResolvedOpsOptions`). @internal */
export const CIRCUIT_BREAKER_OPS_OPTIONS = Symbol('CIRCUIT_BREAKER_OPS_OPTIONS');

/** The manual state changes `POST /{path}/circuitbreakers/:name` accepts, and what each does. */
export const UPDATE_STATES = {
  FORCE_OPEN: { reason: 'isolate', state: 'FORCED_OPEN', done: 'forced open' },
  CLOSE: { reason: 'reset', state: 'CLOSED', done: 'closed' },
  DISABLE: { reason: 'disable', state: 'DISABLED', done: 'disabled' },
} as const;

/** A value of `updateState`. */
export type UpdateState = keyof typeof UPDATE_STATES;
