import type { CircuitState } from '../circuit-state.js';
import { Circuit } from '../circuit.js';
import { BreakerOptionsError } from '../errors.js';
import type { Clock } from '../clock.js';
import type { CircuitSnapshot } from '../snapshot.js';
import type { CircuitConfig } from '../circuit-config.js';
import type {
  CircuitBinding,
  CircuitHandle,
  CircuitStore,
  CircuitTransition,
  CircuitView,
} from './circuit-store.js';

interface Entry {
  readonly circuit: Circuit;
  readonly config: CircuitConfig;
  readonly clock: Clock;
  readonly bindings: Set<CircuitBinding>;
}

/** A comparable description of a configuration (functions compare by identity). */
function sameConfig(a: CircuitConfig, b: CircuitConfig): boolean {
  if (typeof a.backoff === 'function' || typeof b.backoff === 'function') {
    if (a.backoff !== b.backoff) return false;
  } else if (JSON.stringify(a.backoff) !== JSON.stringify(b.backoff)) {
    return false;
  }
  return (
    JSON.stringify(a.policy) === JSON.stringify(b.policy) &&
    a.openDuration === b.openDuration &&
    a.halfOpenMaxCalls === b.halfOpenMaxCalls &&
    a.probeExpiry === b.probeExpiry
  );
}

/**
 * Shares one circuit between every breaker bound under the same name in this process: they see the
 * same state, their outcomes feed one trip policy, and `halfOpenMaxCalls` probes are admitted in all.
 * Breakers without a store each keep a private circuit, which behaves exactly like this store with
 * a single breaker.
 *
 * A circuit lives while at least one breaker is bound to it; the last `dispose()` removes it.
 */
export class InMemoryStore implements CircuitStore {
  private readonly entries = new Map<string, Entry>();

  bind(binding: CircuitBinding): CircuitHandle {
    let entry = this.entries.get(binding.name);
    if (entry === undefined) {
      const bindings = new Set<CircuitBinding>();
      const circuit = new Circuit({
        config: binding.config,
        clock: binding.clock,
        random: binding.random,
        initialState: binding.initialState,
        onTransition: (transition: CircuitTransition) => {
          for (const b of [...bindings]) b.onTransition(transition);
        },
        onProbeSlotFreed: () => {
          for (const b of [...bindings]) b.onProbeSlotFreed?.();
        },
      });
      entry = { circuit, config: binding.config, clock: binding.clock, bindings };
      this.entries.set(binding.name, entry);
    } else if (!sameConfig(entry.config, binding.config)) {
      throw new BreakerOptionsError(
        binding.name,
        'store',
        `the same circuit options as the breaker already sharing "${binding.name}" in this store`,
        'different policy, openDuration, backoff, halfOpenMaxCalls or probeExpiry',
      );
    } else if (entry.clock !== binding.clock) {
      // The shared circuit reads one clock; a second one would be silently ignored.
      throw new BreakerOptionsError(
        binding.name,
        'clock',
        `the same clock as the breaker already sharing "${binding.name}" in this store`,
        'another clock object',
      );
    } else if (binding.initialState !== undefined) {
      // The circuit exists and has its state; restoring another one over it would be ignored.
      throw new BreakerOptionsError(
        binding.name,
        'initialState',
        `unset: "${binding.name}" is already shared in this store and keeps its own state`,
        `a snapshot (${binding.initialState.state})`,
      );
    }
    entry.bindings.add(binding);
    return new SharedHandle(entry.circuit, () => this.unbind(binding));
  }

  /** Names of the circuits currently held. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  private unbind(binding: CircuitBinding): void {
    const entry = this.entries.get(binding.name);
    if (entry === undefined || !entry.bindings.delete(binding)) return;
    if (entry.bindings.size === 0) {
      entry.circuit.unbind();
      this.entries.delete(binding.name);
    }
  }
}

/**
 * One breaker's view of a shared circuit. Once unbound it moves the circuit no more and hears no
 * more of it, but the outcomes of calls it admitted before still reach the circuit (which ignores
 * them if it moved on): a breaker disposed during its probe must not strand the others' circuit.
 */
export class SharedHandle implements CircuitHandle {
  private bound = true;

  constructor(
    private readonly circuit: Circuit,
    private readonly onUnbind: () => void,
  ) {}

  state(): CircuitState {
    return this.circuit.state();
  }

  tryAcquire(): number {
    return this.circuit.tryAcquire();
  }

  success(ticket: number, duration: number): void {
    this.circuit.success(ticket, duration);
  }

  failure(ticket: number, duration: number): void {
    this.circuit.failure(ticket, duration);
  }

  release(ticket: number): void {
    this.circuit.release(ticket);
  }

  transition(
    to: 'CLOSED' | 'FORCED_OPEN' | 'DISABLED',
    reason: 'reset' | 'isolate' | 'disable',
  ): void {
    if (this.bound) this.circuit.transition(to, reason);
  }

  /** See `Circuit.force`: tests force the shared circuit, for every breaker bound to it. */
  force(to: 'OPEN' | 'HALF_OPEN'): void {
    if (this.bound) this.circuit.force(to);
  }

  view(): CircuitView {
    return this.circuit.view();
  }

  retryAfter(): number | undefined {
    return this.circuit.retryAfter();
  }

  snapshot(): CircuitSnapshot {
    return this.circuit.snapshot();
  }

  unbind(): void {
    if (!this.bound) return;
    this.bound = false;
    this.onUnbind();
  }
}
