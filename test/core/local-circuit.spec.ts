/**
 * The store authors' kit (README "State: snapshots and stores"): `createLocalCircuit` hands out
 * tickets as `CircuitHandle.tryAcquire` documents them (lib/core/store/circuit-store.ts): the
 * generation for a CLOSED call, and for a half-open probe "a ticket of its own ... at least 2^52
 * and unique for a circuit's life, so none equals a generation or an older probe's ticket".
 */
import { describe, expect, it } from '@jest/globals';
import {
  Breaker,
  type CircuitStore,
  ManualClock,
  PROBE_TICKET_BASE,
  createLocalCircuit,
} from '../../lib/core/index.js';

/** A store deciding in this process through the kit, recording every ticket it hands out. */
function recordingStore(tickets: number[]): CircuitStore {
  return {
    bind(binding) {
      const circuit = createLocalCircuit(binding);
      const tryAcquire = circuit.tryAcquire.bind(circuit);
      return Object.assign(circuit, {
        tryAcquire: () => {
          const ticket = tryAcquire();
          if (ticket >= 0) tickets.push(ticket);
          return ticket;
        },
      });
    },
  };
}

describe('createLocalCircuit: probe tickets', () => {
  it('are at least PROBE_TICKET_BASE, distinct, and never reused across half-open periods', async () => {
    const tickets: number[] = [];
    const clock = new ManualClock();
    const b = new Breaker({
      name: 'kit',
      clock,
      store: recordingStore(tickets),
      failureThreshold: 1,
      openDuration: 10,
      halfOpenMaxCalls: 3,
    });
    const down = (): Promise<never> => Promise.reject(new Error('down'));
    await b.execute(down).catch(() => undefined);
    const closedTickets = tickets.splice(0);
    expect(closedTickets).toEqual([0]); // the first generation

    const probeTickets: number[] = [];
    for (let round = 0; round < 2; round++) {
      clock.advance(10);
      const probes = [1, 2, 3].map(() => b.execute(down).catch(() => undefined));
      await Promise.all(probes); // the first failed probe re-opens the circuit
      probeTickets.push(...tickets.splice(0));
      expect(b.state).toBe('OPEN');
    }
    expect(probeTickets).toHaveLength(6);
    for (const t of probeTickets) expect(t).toBeGreaterThanOrEqual(PROBE_TICKET_BASE);
    expect(new Set(probeTickets).size).toBe(6);
    b.dispose();
  });
});
