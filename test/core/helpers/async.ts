/** A promise with its settle functions exposed, so a test decides exactly when a call ends. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = unknown>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Lets every pending promise callback run: a full turn of the event loop, not a sleep. Microtasks
 * queued by those callbacks run before setImmediate fires, repeatedly, so chains settle completely.
 */
export async function flush(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Settles `promise` into a value that records how it ended, without an unhandled rejection. */
export function outcome<T>(
  promise: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence, so failures replay. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Boom extends Error {
  constructor(message = 'boom') {
    super(message);
    this.name = 'Boom';
  }
}

export class Ignorable extends Error {
  constructor(message = 'ignorable') {
    super(message);
    this.name = 'Ignorable';
  }
}

export const fail =
  (message = 'boom') =>
  async (): Promise<never> => {
    throw new Boom(message);
  };

export const succeed =
  <T>(value: T) =>
  async (): Promise<T> =>
    value;
