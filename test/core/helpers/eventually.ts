/**
 * Retries `check` until it stops throwing, or fails with its last error after `timeoutMs`. For
 * conditions that become true through another party (a store, a process): it waits on the
 * condition with a deadline, never for a fixed time.
 */
export async function eventually(
  check: () => void | Promise<void>,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}
