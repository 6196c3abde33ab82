import type { CircuitState, TransitionReason } from '../core/internal.js';
import type { FleetReply } from './script-runner.interface.js';

/** @internal This instance's copy of the fleet's circuit. */
export interface Fleet {
  state: CircuitState;
  generation: number;
  id: string;
  /** Local clock reading when the open period ends. */
  openUntil: number;
  failedProbes: number;
  /** Until then, every probe slot is known to be taken: refuse without asking Redis. */
  fullUntil: number;
}

const REASONS: ReadonlySet<string> = new Set<TransitionReason>([
  'consecutive-failures',
  'failure-rate',
  'slow-call-rate',
  'probe-failed',
  'probe-expired',
  'open-period-elapsed',
  'probes-succeeded',
  'isolate',
  'disable',
  'reset',
  'remote',
]);

/** @internal Why the fleet's last transition happened, as a breaker names it (`remote` if unknown). */
export function transitionReason(reply: FleetReply): TransitionReason {
  return REASONS.has(reply.reason) ? (reply.reason as TransitionReason) : 'remote';
}

/**
 * @internal The local copy of the fleet's state: what script answers and pushed transitions said
 * last, with the open period's end on the local clock. `undefined` until the first answer arrives.
 * It moves only forward: an answer about an older (or the same) generation of the same
 * incarnation only refreshes the open period's end.
 */
export class FleetState {
  private fleet: Fleet | undefined;

  /** The copy, if an answer has arrived. */
  get current(): Fleet | undefined {
    return this.fleet;
  }

  /**
   * A fresh read of Redis (after an outage, or a configuration that matches again): forgets the
   * copy unless it is of the same incarnation and generation, so that the reply is taken as new.
   * The same state as this copy's (Redis came back, nothing happened meanwhile) had its last
   * transition applied already.
   */
  forgetUnlessAt(reply: FleetReply): void {
    const f = this.fleet;
    if (f === undefined || f.id !== reply.id || f.generation !== reply.generation) {
      this.fleet = undefined;
    }
  }

  /**
   * Takes `reply` if it is newer than the copy, and returns whether it was (the fleet moved on);
   * an older or equal one only refreshes the open period's end. `now`: the local clock.
   */
  take(reply: FleetReply, now: number): boolean {
    const f = this.fleet;
    const openUntil = now + reply.remaining;
    if (f !== undefined && f.id === reply.id && reply.generation <= f.generation) {
      if (reply.generation === f.generation) {
        f.openUntil = openUntil;
        f.failedProbes = reply.failedProbes;
      }
      return false;
    }
    this.fleet = {
      state: reply.state,
      generation: reply.generation,
      id: reply.id,
      openUntil,
      failedProbes: reply.failedProbes,
      fullUntil: 0,
    };
    return true;
  }
}
