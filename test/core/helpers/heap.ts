import v8 from 'node:v8';
import vm from 'node:vm';

// Jest runs tests in a vm context without `gc`; expose it without a command-line flag.
v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc') as () => void;

/** Heap in use after full garbage collections, in bytes. */
export async function settledHeap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    collect();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}
