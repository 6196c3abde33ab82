import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  Optional,
} from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { CIRCUIT_BREAKER_REGISTRY } from '../circuit-breaker.constants.js';
import {
  type CircuitBreakerRegistry,
  UnknownCircuitBreakerError,
} from '../circuit-breaker.registry.js';
import {
  type Breaker,
  type CircuitState,
  closestName,
  FAMILY_KEY_SEPARATOR,
  forceState,
  type ManualClock,
} from '../core/internal.js';
import { type CircuitBreakerEventRecorder, EventLog } from './event-recorder.js';
import { OVERRIDES_SOURCE, type ResolvedTestingOptions } from './testing-options.js';
import { CIRCUIT_BREAKER_TESTING_OPTIONS } from './testing.constants.js';

/**
 * A test's handle on the application's breakers, provided by `CircuitBreakerTestingModule`:
 * the clock they all read, any breaker forced into any state, what each breaker did.
 *
 * ```ts
 * const breakers = moduleRef.get(CircuitBreakerTesting);
 * breakers.force('payments', 'OPEN');
 * breakers.clock.advance(30_000); // the open period is over: HALF_OPEN
 * breakers.events('payments').states(); // ['OPEN', 'HALF_OPEN']
 * ```
 * @publicApi
 */
@Injectable()
export class CircuitBreakerTesting implements OnApplicationBootstrap, OnModuleDestroy {
  /** The clock every breaker of the application reads: time moves only with `advance()`. */
  readonly clock: ManualClock;
  /** The application's registry, as `CircuitBreakerRegistry` injects it. */
  readonly registry: CircuitBreakerRegistry;

  private readonly overrides: ReadonlySet<string>;
  private readonly logs = new Map<string, EventLog>();
  private readonly subscription: Subscription;

  /** Built by `CircuitBreakerTestingModule`; inject it, or `moduleRef.get(CircuitBreakerTesting)`. */
  constructor(
    @Inject(CIRCUIT_BREAKER_TESTING_OPTIONS) options: ResolvedTestingOptions,
    @Optional() @Inject(CIRCUIT_BREAKER_REGISTRY) registry?: CircuitBreakerRegistry,
  ) {
    if (registry === undefined) {
      throw new Error(
        'CircuitBreakerTestingModule needs CircuitBreakerModule.forRoot() (or forRootAsync()) in ' +
          'the same testing module: import your application module, or CircuitBreakerModule itself',
      );
    }
    this.clock = options.clock;
    this.registry = registry;
    this.overrides = new Set(options.overrides.keys());
    // From the start, before any call: every breaker's events, including breakers created later.
    this.subscription = registry.events$.subscribe((event) => {
      this.log(event.breaker).all.push(event);
    });
  }

  /**
   * The breaker named `name` (`registry.get(name)`), or a family's breaker for one key, by its
   * name `family:key` (`registry.family(family).get(key)`, created if the key has none yet).
   * @throws UnknownCircuitBreakerError for an unknown name; before `init()`, the message says
   * that breakers named only by `@CircuitBreaker()` are declared by `init()`.
   */
  breaker(name: string): Breaker {
    const split = name.indexOf(FAMILY_KEY_SEPARATOR);
    if (split > 0 && this.registry.hasFamily(name.slice(0, split))) {
      return this.registry.family(name.slice(0, split)).get(name.slice(split + 1));
    }
    try {
      return this.registry.get(name);
    } catch (error) {
      if (error instanceof UnknownCircuitBreakerError && !this.registry.isReady) {
        error.message +=
          ' A breaker named only by @CircuitBreaker() is declared when the application ' +
          'initialises (or at its first call): call `await moduleRef.init()` after compile()';
      }
      throw error;
    }
  }

  /**
   * Moves breaker `name` to `state` now, without real failures, so that a test reaches its
   * fallback and error paths. A transition like any other: a `stateChange` event, a new
   * generation (outcomes of calls admitted before it no longer count).
   *
   * - `OPEN`: open for the breaker's `openDuration` (with a `backoff`, its first period), reason
   *   `forced`; advance {@link CircuitBreakerTesting.clock} by it and the breaker is `HALF_OPEN`.
   * - `HALF_OPEN`: probes may go (up to `halfOpenMaxCalls`), reason `forced`.
   * - `FORCED_OPEN`, `DISABLED`, `CLOSED`: the breaker's `isolate()`, `disable()`, `reset()`.
   *
   * Forcing the state it is in is a new transition too (a fresh open period, say), except
   * `FORCED_OPEN` and `DISABLED`, as with `isolate()` and `disable()`.
   * @throws UnknownCircuitBreakerError for an unknown name; TypeError for an unknown state, or
   * `OPEN`/`HALF_OPEN` on a breaker whose circuit is in a shared store (a `RedisStore`).
   */
  force(name: string, state: CircuitState): void {
    forceState(this.breaker(name), state);
  }

  /**
   * What breaker `name` did, in order, since the application was compiled (or since the
   * recorder's `clear()`). The same recorder each time for one name.
   * @throws UnknownCircuitBreakerError for an unknown name.
   */
  events(name: string): CircuitBreakerEventRecorder {
    this.breaker(name);
    return this.log(name);
  }

  /**
   * Closes every breaker, families' included (`reset()`) and then forgets every recorded event: a clean start for the
   * next test when several share one application. The clock is left where it is.
   */
  resetAll(): void {
    for (const name of this.registry.names()) this.registry.get(name).reset();
    for (const name of this.registry.familyNames()) {
      const family = this.registry.family(name);
      for (const key of family.keys()) family.peek(key)?.reset();
    }
    for (const log of this.logs.values()) log.clear();
  }

  /**
   * Checks, once every breaker is declared, that each override names one of them or a family (a typo would
   * otherwise override nothing). Runs on `init()`; skipped when the registry has `autoCreate`.
   */
  onApplicationBootstrap(): void {
    if (this.registry.declarations.module.autoCreate) return;
    const known = this.registry.names();
    for (const name of this.overrides) {
      if (this.registry.has(name) || this.registry.hasFamily(name)) continue;
      const near = closestName(name, known);
      throw new Error(
        `${OVERRIDES_SOURCE}: no circuit breaker is named "${name}"` +
          `${near ? ` (did you mean "${near}"?)` : ''}. Known breakers: ` +
          `${known.length > 0 ? known.map((k) => `"${k}"`).join(', ') : 'none'}`,
      );
    }
  }

  /** Stops recording when the testing module closes. */
  onModuleDestroy(): void {
    this.subscription.unsubscribe();
  }

  private log(name: string): EventLog {
    let log = this.logs.get(name);
    if (log === undefined) {
      log = new EventLog(name);
      this.logs.set(name, log);
    }
    return log;
  }
}
