import { describe, expect, it } from '@jest/globals';
import { Breaker, ManualClock, isCircuitOpenError } from '../../lib/core/index.js';

describe('smoke', () => {
  it('opens after 5 failures', async () => {
    const clock = new ManualClock();
    const b = new Breaker({ name: 'x', clock });
    for (let i = 0; i < 5; i++)
      await expect(
        b.execute(async () => {
          throw new Error('x');
        }),
      ).rejects.toThrow('x');
    expect(b.state).toBe('OPEN');
    const e = await b.execute(async () => 1).catch((e: unknown) => e);
    expect(isCircuitOpenError(e)).toBe(true);
    clock.advance(30_000);
    expect(await b.execute(async () => 2)).toBe(2);
    expect(b.state).toBe('CLOSED');
  });
});
