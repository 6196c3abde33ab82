import type { Call } from './in-flight-limit.js';
import type { ScriptClient } from './redis-connections.js';
import type {
  FleetHint,
  FleetReply,
  FleetScript,
  ScriptCaller,
} from './script-runner.interface.js';

const SCRIPTS = {
  sync: 'cbSync',
  record: 'cbRecord',
  acquire: 'cbAcquire',
  probe: 'cbProbe',
  transition: 'cbTransition',
} as const;

/** @internal What a script call does when Redis holds another configuration, or replaced one. */
export interface ExchangeHooks<C extends ScriptCaller> {
  /** A MISMATCH answer: returns the error the call rejects with. */
  mismatch(circuit: C, json: string, hint: FleetHint): Error;
  /** The call replaced the configuration `json` in Redis (it had gone unused). */
  replaced(circuit: C, json: string): void;
}

/**
 * @internal One script call (in one slot): sends the fingerprint, and the configuration too when
 * Redis asks for it (the circuit is new, or Redis lost it), when the configuration in Redis has
 * gone unused for `staleConfigAfter`, or when the circuit is known to differ (a check whether it
 * still does). See `scripts.ts` for the answers.
 */
export async function exchange<C extends ScriptCaller>(
  commands: ScriptClient,
  staleConfigAfter: number,
  hooks: ExchangeHooks<C>,
  script: FleetScript,
  circuit: C,
  args: ReadonlyArray<string | number>,
  call: Call,
): Promise<FleetReply> {
  const fn = commands[SCRIPTS[script]];
  let attach = circuit.mismatched;
  for (;;) {
    const raw = (await fn.call(
      commands,
      ...circuit.keys,
      circuit.fingerprint,
      attach ? circuit.configJson : '',
      staleConfigAfter,
      ...circuit.callArgs(),
      ...args,
    )) as unknown[];
    call.answered();
    const stale = raw[0] === 'MISMATCH' && Number(raw[2]) >= staleConfigAfter;
    if (!attach && (raw[0] === 'NOCONFIG' || stale)) {
      // Nothing was changed: send again, with the configuration. Not for a caller that gave up.
      if (call.abandoned()) throw new Error('Redis answered after commandTimeout');
      attach = true;
      continue;
    }
    if (raw[0] === 'MISMATCH') throw hooks.mismatch(circuit, String(raw[1]), mismatchHint(raw));
    if (raw[0] === 'NOCONFIG') throw new Error('Redis did not store the configuration');
    const reply = parseReply(raw);
    if (reply.replaced !== '') hooks.replaced(circuit, reply.replaced);
    return reply;
  }
}

/** The fleet's state, from a MISMATCH answer. */
function mismatchHint(raw: unknown[]): FleetHint {
  return {
    state: String(raw[3]) as FleetHint['state'],
    remaining: Number(raw[4]),
    failedProbes: Number(raw[5]),
  };
}

function parseReply(reply: unknown[]): FleetReply {
  return {
    state: String(reply[0]) as FleetReply['state'],
    generation: Number(reply[1]),
    remaining: Number(reply[2]),
    failedProbes: Number(reply[3]),
    admitted: Number(reply[4]) === 1,
    wait: Number(reply[5]),
    id: String(reply[6]),
    reason: String(reply[7]),
    replaced: typeof reply[8] === 'string' ? reply[8] : '',
  };
}

/** @internal A message on the store's channel: a configuration written, or a transition. */
export type FleetMessage =
  | {
      readonly kind: 'config';
      readonly name: string;
      readonly fingerprint: string;
      readonly json: string | undefined;
    }
  | { readonly kind: 'transition'; readonly name: string; readonly reply: FleetReply };

/** @internal Decodes a message the scripts published; `undefined` if it is not one. */
export function parseMessage(message: string): FleetMessage | undefined {
  let parsed: {
    n?: unknown;
    s?: unknown;
    g?: unknown;
    rem?: unknown;
    fp?: unknown;
    r?: unknown;
    id?: unknown;
    c?: unknown;
    cj?: unknown;
  };
  try {
    parsed = JSON.parse(message) as typeof parsed;
  } catch {
    return undefined;
  }
  const name = parsed.n;
  if (typeof name !== 'string') return undefined;
  if (typeof parsed.c === 'string') {
    // A configuration was written for the circuit (it was created, or one replaced another).
    const json = typeof parsed.cj === 'string' ? parsed.cj : undefined;
    return { kind: 'config', name, fingerprint: parsed.c, json };
  }
  const reply: FleetReply = {
    state: String(parsed.s) as FleetReply['state'],
    generation: Number(parsed.g),
    remaining: Number(parsed.rem),
    failedProbes: Number(parsed.fp),
    admitted: false,
    wait: 0,
    id: String(parsed.id),
    reason: String(parsed.r),
    replaced: '',
  };
  return { kind: 'transition', name, reply };
}
