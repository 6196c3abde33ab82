import { Inject, Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { CircuitState, closestName } from '../core/internal.js';
import { CIRCUIT_BREAKER_REGISTRY } from '../circuit-breaker.constants.js';
import type { CircuitBreakerRegistry } from '../circuit-breaker.registry.js';
import { type CircuitBreakerFamilyHealthDetails, familyDetails } from './family-health.js';

/** How a half-open circuit (probes under way) is reported. @publicApi */
export type HalfOpenHealth = 'up' | 'degraded' | 'down';

/** Options of {@link CircuitBreakerHealthIndicator.isHealthy}. @publicApi */
export interface CircuitBreakerHealthOptions {
  /**
   * The breakers to check, by name. Listed breakers are checked even if declared with
   * `health: false`; an unknown name makes the result `down` (and is named in `unknown`).
   * @default every breaker except those declared with `health: false`
   */
  breakers?: readonly string[];
  /**
   * How a `HALF_OPEN` breaker counts. `'degraded'` keeps the HTTP status 200 (Terminus reports the
   * overall status `degraded`), so the instance stays in rotation while probes decide.
   * @default 'degraded'
   */
  halfOpen?: HalfOpenHealth;
  /**
   * The families of breakers to check, by name, each reported as one entry under `families`
   * (keys by state, and the first open keys). Listed families are checked even if declared with
   * `health: false`; an unknown name makes the result `down`.
   * @default every family except those declared with `health: false`
   */
  families?: readonly string[];
  /**
   * How a family with open keys counts (a half-open key counts as `halfOpen` says, at most as
   * this). `'degraded'` by default: one tenant's or host's dependency being down does not take the
   * instance out of rotation, which would not help that key and would hurt every other.
   * @default 'degraded'
   */
  familyOpen?: HalfOpenHealth;
}

/** What the indicator reports for one breaker. @publicApi */
export interface CircuitBreakerHealthDetails {
  readonly state: CircuitState;
  /** Failure rate the trip policy currently sees, in [0, 1]. */
  readonly failureRate: number;
  /** Milliseconds (rounded up) until probes may go (`OPEN`), 0 (`HALF_OPEN`); absent otherwise. */
  readonly retryAfter?: number;
  /**
   * For a breaker on a shared store (Redis): `shared`, or `degraded` while the store is unreachable
   * and the breaker decides alone. Absent for breakers that keep their state in memory.
   */
  readonly store?: 'shared' | 'degraded';
}

const RANK: Record<HalfOpenHealth, number> = { up: 0, degraded: 1, down: 2 };

function checkRank(option: string, value: HalfOpenHealth | undefined): HalfOpenHealth {
  const rank = value ?? 'degraded';
  if (!(rank in RANK)) {
    throw new TypeError(
      `CircuitBreakerHealthIndicator: ${option} must be "up", "degraded" or "down", received ${String(rank)}`,
    );
  }
  return rank;
}

/**
 * A Terminus health indicator for circuit breakers: `OPEN` and `FORCED_OPEN` breakers are `down`,
 * `HALF_OPEN` ones count as `halfOpen` says, `CLOSED` and `DISABLED` ones are `up`. A breaker whose
 * shared store (Redis) is unreachable makes the result at least `degraded` (listed under
 * `storeDegraded`).
 *
 * ```ts
 * @Module({ imports: [TerminusModule], providers: [CircuitBreakerHealthIndicator], ... })
 *
 * @Get('health') @HealthCheck()
 * check() {
 *   return this.health.check([() => this.breakers.isHealthy('circuits')]);
 * }
 * ```
 *
 * The result lists every selected breaker under `breakers`, with its state, failure rate and
 * retry time, and the names of the open ones under `open`; and every selected family of breakers
 * as one entry under `families` (keys by state, the first open keys), which counts as
 * `familyOpen` says while some key is open.
 * @publicApi
 */
@Injectable()
export class CircuitBreakerHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly health: HealthIndicatorService,
    @Inject(CIRCUIT_BREAKER_REGISTRY) private readonly registry: CircuitBreakerRegistry,
  ) {}

  /** Checks the selected breakers; see {@link CircuitBreakerHealthOptions}. */
  isHealthy<const Key extends string>(
    key: Key,
    options: CircuitBreakerHealthOptions = {},
  ): HealthIndicatorResult<Key> {
    const halfOpen = checkRank('halfOpen', options.halfOpen);
    const familyOpen = checkRank('familyOpen', options.familyOpen);
    const known = this.registry.names();
    const selected =
      options.breakers ?? known.filter((name) => this.registry.isHealthChecked(name) !== false);
    const breakers: Record<string, CircuitBreakerHealthDetails> = {};
    const open: string[] = [];
    const unknown: string[] = [];
    const storeDegraded: string[] = [];
    let worst = RANK.up;
    for (const name of selected) {
      if (!this.registry.has(name)) {
        const near = closestName(name, known);
        unknown.push(near === undefined ? name : `${name} (did you mean "${near}"?)`);
        worst = RANK.down;
        continue;
      }
      const stats = this.registry.get(name).stats();
      breakers[name] = {
        state: stats.state,
        failureRate: stats.failureRate,
        ...(stats.retryAfter === undefined ? {} : { retryAfter: Math.ceil(stats.retryAfter) }),
        ...(stats.store === 'memory' ? {} : { store: stats.store }),
      };
      if (stats.state === CircuitState.Open || stats.state === CircuitState.ForcedOpen) {
        open.push(name);
        worst = RANK.down;
      } else if (stats.state === CircuitState.HalfOpen) {
        worst = Math.max(worst, RANK[halfOpen]);
      }
      // A shared store that cannot be reached: the breaker still protects this instance, on its own
      // decisions, so the instance stays in rotation, reported as degraded.
      if (stats.store === 'degraded') {
        storeDegraded.push(name);
        worst = Math.max(worst, RANK.degraded);
      }
    }
    const families: Record<string, CircuitBreakerFamilyHealthDetails> = {};
    const knownFamilies = this.registry.familyNames();
    const selectedFamilies =
      options.families ??
      knownFamilies.filter((name) => this.registry.isFamilyHealthChecked(name) !== false);
    for (const name of selectedFamilies) {
      if (!this.registry.hasFamily(name)) {
        const near = closestName(name, knownFamilies);
        unknown.push(near === undefined ? name : `${name} (did you mean "${near}"?)`);
        worst = RANK.down;
        continue;
      }
      const details = familyDetails(this.registry.family(name));
      families[name] = details;
      if (details.openKeys > 0) worst = Math.max(worst, RANK[familyOpen]);
      else if (details.states.HALF_OPEN > 0) {
        worst = Math.max(worst, Math.min(RANK[halfOpen], RANK[familyOpen]));
      }
    }
    const data = {
      breakers,
      ...(selectedFamilies.length > 0 ? { families } : {}),
      ...(open.length > 0 ? { open } : {}),
      ...(storeDegraded.length > 0 ? { storeDegraded } : {}),
      ...(unknown.length > 0 ? { unknown } : {}),
    };
    const session = this.health.check(key);
    if (worst === RANK.down) return session.down(data);
    if (worst === RANK.degraded) return session.degraded(data);
    return session.up(data);
  }
}
