/** Injection token of the testing module's resolved options. @internal */
export const CIRCUIT_BREAKER_TESTING_OPTIONS = Symbol('CIRCUIT_BREAKER_TESTING_OPTIONS');
