import type { Breaker } from './breaker.js';
import { Circuit } from './circuit.js';
import { CircuitState, isCircuitState } from './circuit-state.js';
import { describeValue } from './describe.js';
import { BreakerDisposedError } from './errors.js';
import { SharedHandle } from './store/in-memory.store.js';

/**
 * Moves `breaker` to `state` by hand, for tests (package-internal: the testing module's `force()`).
 *
 * `CLOSED`, `FORCED_OPEN` and `DISABLED` are the breaker's own `reset()`, `isolate()` and
 * `disable()`. `OPEN` and `HALF_OPEN` go through the circuit's one transition point, as a trip or
 * the end of an open period would: a new generation (outcomes of calls admitted before are late),
 * a `stateChange` event with reason `forced`, an open period of the configured length (so that a
 * `ManualClock` advanced by `openDuration` makes it `HALF_OPEN`), half-open waiters woken.
 *
 * @throws TypeError if `state` is not a circuit state, or `OPEN`/`HALF_OPEN` is asked of a breaker
 * whose circuit lives in a store other than its own memory or an `InMemoryStore`.
 * @throws BreakerDisposedError if the breaker is disposed.
 */
export function forceState(breaker: Breaker, state: CircuitState): void {
  if (!isCircuitState(state)) {
    throw new TypeError(
      `Cannot force circuit breaker "${breaker.name}": the state must be one of ` +
        `${Object.values(CircuitState).join(', ')}, received ${describeValue(state)}`,
    );
  }
  switch (state) {
    case CircuitState.Closed:
      return breaker.reset();
    case CircuitState.ForcedOpen:
      return breaker.isolate();
    case CircuitState.Disabled:
      return breaker.disable();
    case CircuitState.Open:
    case CircuitState.HalfOpen: {
      if (breaker.isDisposed) throw new BreakerDisposedError(breaker.name);
      // The breaker's context is private to its facade; this package-internal door is the one
      // way in, so that no public method can move a live breaker to OPEN or HALF_OPEN.
      const circuit = breaker['ctx'].circuit;
      if (!(circuit instanceof Circuit || circuit instanceof SharedHandle)) {
        throw new TypeError(
          `Cannot force circuit breaker "${breaker.name}" to ${state}: its circuit lives in a ` +
            "shared store (such as a RedisStore), whose state is the fleet's. Test with the " +
            'default in-memory circuit, or an InMemoryStore',
        );
      }
      circuit.force(state);
    }
  }
}
