import { PROBE_TICKET_BASE } from '../core/internal.js';
import type { Fleet } from './fleet-state.js';
import type { FleetReply, ScriptCaller, ScriptRunner } from './script-runner.interface.js';

/** A fleet probe lease held by a call in flight. */
export interface HeldProbe {
  /** The fleet circuit's incarnation and generation the lease was taken in. */
  readonly id: string;
  readonly generation: number;
  readonly lease: string;
}

/** How a probe ended: S success, F failure, I no verdict (the lease is freed for another probe). */
export type ProbeOutcome = 'S' | 'F' | 'I';

/**
 * A fleet probe's outcome not yet sent (Redis was away when the probe ended), or a lease to release
 * that Redis may have granted after its request timed out (generation -1, outcome I).
 */
interface UnsentProbe {
  readonly generation: number;
  readonly lease: string;
  readonly kind: ProbeOutcome;
}

/**
 * The first ticket of a fleet probe: above every ticket the own circuit can give (those start at
 * PROBE_TICKET_BASE and would need 2^51 probes to get here), so the two never meet.
 */
const FLEET_TICKET_BASE = PROBE_TICKET_BASE + 2 ** 51;

/** @internal What the probe leases need from their circuit. */
export interface FleetProbesHost {
  /** Whether the breaker is still bound (not disposed). */
  bound(): boolean;
  /** Whether decisions are the fleet's right now. */
  shared(): boolean;
  /** Redis answered with the fleet's state. */
  adopt(reply: FleetReply): void;
}

/**
 * @internal The fleet probe leases this instance holds, by the ticket each probe was admitted
 * with, and the probe outcomes still to send. A probe's outcome is the fleet's whatever happened on
 * this instance meanwhile (Redis lost and back, the own circuit moved): Redis's script ignores it
 * if the fleet moved on, and otherwise it must settle the lease, or the fleet's probe slot stays
 * taken until probeExpiry.
 */
export class FleetProbes<C extends ScriptCaller> {
  private readonly probes = new Map<number, HeldProbe>();
  /** The next fleet probe's ticket: each probe settles its own lease, not the oldest one. */
  private nextFleetTicket = FLEET_TICKET_BASE;
  /** Fleet probe outcomes to send when Redis is back. */
  private unsent: UnsentProbe[] = [];
  private leaseCount = 0;

  constructor(
    private readonly runner: ScriptRunner<C>,
    private readonly circuit: C,
    private readonly host: FleetProbesHost,
  ) {}

  /** A new lease id, unique in the fleet. */
  nextLease(): string {
    return `${this.runner.instanceId}:${++this.leaseCount}`;
  }

  /** Keeps a fleet probe's lease under a ticket of its own, which the call settles with. */
  hold(reply: FleetReply, lease: string): number {
    const ticket = this.nextFleetTicket++;
    this.probes.set(ticket, { id: reply.id, generation: reply.generation, lease });
    return ticket;
  }

  /** The lease held under `ticket`, if it is a fleet probe's; it is not held any more. */
  take(ticket: number): HeldProbe | undefined {
    const held = this.probes.size === 0 ? undefined : this.probes.get(ticket);
    if (held !== undefined) this.probes.delete(ticket);
    return held;
  }

  /** The leases held in the fleet's current generation. */
  heldIn(f: Fleet): number {
    let n = 0;
    for (const held of this.probes.values()) {
      if (held.id === f.id && held.generation === f.generation) n++;
    }
    return n;
  }

  /** The fleet moved to `reply`: leases of an older generation are void (the script would ignore their outcomes). */
  voidBefore(reply: FleetReply): void {
    for (const [ticket, held] of this.probes) {
      if (held.id !== reply.id || held.generation !== reply.generation) this.probes.delete(ticket);
    }
  }

  /** A lease asked for whose answer was lost: released once Redis is back. */
  keepUnsent(lease: string): void {
    this.unsent.push({ generation: -1, lease, kind: 'I' });
  }

  /** Redis is back: sends the outcomes of probes that ended while it was away (their leases are still taken). */
  sendUnsent(): void {
    const unsent = this.unsent;
    this.unsent = [];
    for (const p of unsent) this.settle(p.generation, p.lease, p.kind);
  }

  /** The breaker was disposed. */
  clear(): void {
    this.probes.clear();
    this.unsent = [];
  }

  /**
   * Sends a fleet probe's outcome, or keeps it until Redis is back. Sending it twice is harmless:
   * the script settles a lease once, and ignores it if the fleet's generation moved on.
   */
  settle(generation: number, lease: string, kind: ProbeOutcome): void {
    if (!this.host.bound()) return;
    if (!this.host.shared()) {
      this.unsent.push({ generation, lease, kind });
      return;
    }
    this.runner.run('probe', this.circuit, [generation, lease, kind]).then(
      (reply) => this.host.adopt(reply),
      () => {
        if (this.host.bound()) this.unsent.push({ generation, lease, kind });
      },
    );
  }
}
