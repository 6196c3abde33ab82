import { configDifferences, describeDifferences, parseSharedConfig } from './circuit-config.js';
import type { ConfigDifference } from './circuit-config.js';
import { CircuitConfigMismatchError } from './config-mismatch.error.js';
import type { RedisCircuit } from './redis-circuit.js';
import type { RedisStoreOptions, RedisStoreStatus } from './redis-store-options.interface.js';
import type { ExchangeHooks } from './script-protocol.js';
import type { FleetHint, FleetReply } from './script-runner.interface.js';

/** @internal What the registry needs from its store. */
export interface ConfigMismatchHost {
  readonly logger: NonNullable<RedisStoreOptions['logger']>;
  readonly staleConfigAfter: number;
  readonly retryInterval: number;
  /** Whether the store is shared right now: checks wait until it is. */
  status(): RedisStoreStatus;
  /** The circuits bound under `name` (empty if none). */
  circuitsNamed(name: string): Iterable<RedisCircuit>;
  /** One of them, if any. */
  firstNamed(name: string): RedisCircuit | undefined;
  /** Reads the fleet's state for `circuit`, with its configuration (see `RedisStore.run`). */
  sync(circuit: RedisCircuit): Promise<FleetReply>;
}

/**
 * @internal The circuits of a store whose configuration in Redis differs from this instance's, by
 * name. Their breakers decide alone; every `retryInterval` each is checked again, until the
 * configurations match or this instance's replaces a stale one. It logs each change once.
 */
export class ConfigMismatchRegistry implements ExchangeHooks<RedisCircuit> {
  private readonly mismatches = new Map<
    string,
    { json: string; error: CircuitConfigMismatchError }
  >();
  /** Names being checked again, so that one check at a time goes per name. */
  private readonly rechecking = new Set<string>();
  private configTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly host: ConfigMismatchHost) {}

  has(name: string): boolean {
    return this.mismatches.has(name);
  }

  /** The error of the circuit `name`, if its configuration differs. */
  errorOf(name: string): CircuitConfigMismatchError | undefined {
    return this.mismatches.get(name)?.error;
  }

  /** Every circuit that differs, and the options that do, for `stats()`. */
  list(): Array<{ breaker: string; differences: readonly ConfigDifference[] }> {
    return [...this.mismatches].map(([breaker, m]) => ({
      breaker,
      differences: m.error.differences,
    }));
  }

  /** No breaker of `name` is left. */
  forget(name: string): void {
    this.mismatches.delete(name);
  }

  /** The store closed. */
  stop(): void {
    clearInterval(this.configTimer);
  }

  /**
   * Redis holds `json` for the circuit, not this instance's configuration: its breakers decide alone
   * from now on. `hint`: the fleet's state, for a circuit that has not shared it yet.
   */
  mark(
    circuit: RedisCircuit,
    json: string,
    hint: FleetHint | undefined,
  ): CircuitConfigMismatchError {
    const known = this.mismatches.get(circuit.name);
    if (known?.json === json) return known.error;
    const error = new CircuitConfigMismatchError(
      circuit.name,
      configDifferences(circuit.config, parseSharedConfig(json)),
    );
    this.mismatches.set(circuit.name, { json, error });
    this.host.logger.warn(
      `[nestjs-circuit-breaker] Redis store: ${error.message}; its breakers decide locally until ` +
        `the configurations match, or until the one in Redis goes unused for ` +
        `${this.host.staleConfigAfter} ms and this instance's replaces it`,
    );
    for (const c of this.host.circuitsNamed(circuit.name)) c.setMismatch(error, hint);
    if (this.configTimer === undefined) {
      this.configTimer = setInterval(() => this.recheckAll(), this.host.retryInterval);
      this.configTimer.unref?.();
    }
    return error;
  }

  /** A MISMATCH answer: the circuit's breakers decide alone from now on. */
  mismatch(circuit: RedisCircuit, json: string, hint: FleetHint): CircuitConfigMismatchError {
    return this.mark(circuit, json, hint);
  }

  /** A script call replaced the circuit's configuration in Redis (it had gone unused). */
  replaced(circuit: RedisCircuit, json: string): void {
    const differences = configDifferences(circuit.config, parseSharedConfig(json));
    this.host.logger.warn(
      `[nestjs-circuit-breaker] Redis store: breaker "${circuit.name}": the configuration in ` +
        `Redis had not been used for ${this.host.staleConfigAfter} ms; this instance's replaced it ` +
        `(${describeDifferences(differences, 'now', 'before')})`,
    );
  }

  /** Syncs one circuit of `name`, with its configuration: it matches again, or replaces a stale one. */
  recheck(name: string): void {
    const circuit = this.host.firstNamed(name);
    if (circuit === undefined || this.rechecking.has(name)) return;
    this.rechecking.add(name);
    this.host
      .sync(circuit)
      .then(
        (reply) => this.matches(name, reply),
        () => undefined,
      )
      .finally(() => this.rechecking.delete(name));
  }

  /** The configuration in Redis is this instance's again: the circuit's breakers share again. */
  matches(name: string, reply: FleetReply | undefined): void {
    if (!this.mismatches.delete(name)) return;
    this.host.logger.log(
      `[nestjs-circuit-breaker] Redis store: breaker "${name}" has the configuration shared in ` +
        `Redis again; it shares state again`,
    );
    for (const c of this.host.circuitsNamed(name)) {
      if (reply !== undefined) c.adoptFromSync(reply);
      c.setMismatch(undefined);
    }
  }

  /** While circuits differ: checks each again, every retryInterval. */
  private recheckAll(): void {
    if (this.mismatches.size === 0) {
      clearInterval(this.configTimer);
      this.configTimer = undefined;
      return;
    }
    if (this.host.status() !== 'shared') return;
    for (const name of this.mismatches.keys()) this.recheck(name);
  }
}
