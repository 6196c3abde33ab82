import { BreakerInstruments } from './breaker-instruments.js';
import type {
  CircuitBreakerTelemetry,
  CircuitBreakerTelemetryOptions,
  CircuitBreakerTelemetryTarget,
} from './circuit-breaker-telemetry-options.interface.js';
import { resolveTelemetryOptions } from './telemetry-options.js';
import { checkTarget, watch } from './watched-breakers.js';

const CALLER = 'instrumentCircuitBreakers';

/**
 * Instruments circuit breakers with OpenTelemetry: metrics on a meter, and events on the active
 * span (see the README, "OpenTelemetry", for every name):
 *
 * ```ts
 * import { instrumentCircuitBreakers } from 'nestjs-circuit-breaker/opentelemetry';
 *
 * const telemetry = instrumentCircuitBreakers([payments, search], { meterProvider });
 * ```
 *
 * - `circuit_breaker.state` (observable up-down counter): 1 for each breaker's current state and
 *   0 for the four others, computed when metrics are collected; no timer runs.
 * - `circuit_breaker.call.duration` (histogram, seconds): calls that ran, by
 *   `circuit_breaker.outcome` (`success`, `failure`, `ignored`, `timeout`), with `error.type` on
 *   failures and timeouts.
 * - `circuit_breaker.call.rejected` (counter): refused calls, by `circuit_breaker.rejection.reason`.
 * - `circuit_breaker.state_change.count` (counter): transitions, by
 *   `circuit_breaker.previous_state` and `circuit_breaker.state`.
 * - Span events `circuit_breaker.rejected` and `circuit_breaker.state_change` on the span active
 *   where a call is refused or a transition happens.
 *
 * `target` is a `CircuitBreakerRegistry` (breakers it creates later are instrumented too, and its
 * families) or engine breakers and `BreakerFamily`s (a disposed one drops out at the next
 * collection). A family's first `maxKeysPerFamily` keys are named `<family>:<key>`; the others
 * are recorded as `<family>:__other__`. Calls already running when
 * this is called were not timed and are left out of the histogram. Instruments are created on the
 * meter `nestjs-circuit-breaker` of `meterProvider` (by default the global one, read now: start
 * the SDK first), or on `meter`. Two registrations on one meter share its instruments; give
 * their breakers distinct names.
 *
 * @returns a handle whose `dispose()` stops recording for `target`; see
 *   {@link CircuitBreakerTelemetry.dispose}.
 * @throws TypeError for an invalid option or target, before anything is created.
 * @publicApi
 */
export function instrumentCircuitBreakers(
  target: CircuitBreakerTelemetryTarget,
  options: CircuitBreakerTelemetryOptions = {},
): CircuitBreakerTelemetry {
  const checked = checkTarget(target, CALLER);
  const { meter, prefix, spanEvents, maxKeysPerFamily } = resolveTelemetryOptions(options, CALLER);
  const instruments = new BreakerInstruments(meter, prefix, spanEvents);
  const watched = watch(checked, instruments.handlers, maxKeysPerFamily);
  instruments.observeStates(() => watched.states());
  let disposed = false;
  return {
    dispose() {
      if (disposed) return;
      disposed = true;
      watched.dispose();
      instruments.dispose();
    },
  };
}
