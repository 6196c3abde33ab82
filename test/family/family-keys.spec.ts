import { describe, expect, it } from '@jest/globals';
import { KeyTable } from '../../lib/core/family-keys.js';

/** A small deterministic generator (mulberry32), so that a failure replays. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('KeyTable (a family’s use order)', () => {
  it('keeps keys in least-recently-used order under any mix of uses, inserts, removals and evictions', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const next = random(seed);
      const table = new KeyTable<number>();
      // The reference model: an array, least recently used first.
      let model: string[] = [];
      const busy = new Set<string>();
      for (let step = 0, now = 0; step < 500; step++, now++) {
        const key = `k${Math.floor(next() * 12)}`;
        const op = next();
        if (op < 0.4) {
          if (table.use(key, now) !== undefined) model = [...model.filter((k) => k !== key), key];
        } else if (op < 0.65) {
          if (table.peek(key) === undefined) {
            table.insert(key, step, now);
            model.push(key);
          }
        } else if (op < 0.8) {
          table.remove(key);
          model = model.filter((k) => k !== key);
        } else {
          if (next() < 0.5) busy.add(key);
          else busy.delete(key);
          const evicted = table.evictOne(now, 3, (v) => !busy.has(keyOf(table, v)));
          // The model: look at the 3 oldest; busy ones go to the end, the first idle one goes.
          for (let looked = 0; looked < 3 && model.length > 0; looked++) {
            const oldest = model[0]!;
            model = model.slice(1);
            if (!busy.has(oldest)) {
              expect(evicted?.key).toBe(oldest);
              break;
            }
            model.push(oldest);
            if (looked === 2) expect(evicted).toBeUndefined();
          }
        }
        expect([...table.keys()]).toEqual(model);
        expect(table.size).toBe(model.length);
      }
    }
  });
});

function keyOf(table: KeyTable<number>, value: number): string {
  for (const slot of table.values()) if (slot.value === value) return slot.key;
  throw new Error(`no slot holds ${value}`);
}
