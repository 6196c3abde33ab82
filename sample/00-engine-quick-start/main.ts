import { Breaker, isCircuitOpenError } from 'nestjs-circuit-breaker/core';

const breaker = new Breaker({ name: 'payments', failureThreshold: 5, openDuration: 30_000 });
breaker.onStateChange(({ from, to, reason }) =>
  console.log(`payments: ${from} -> ${to} (${reason})`),
);

async function fetchQuote(id: string, init: { signal?: AbortSignal }): Promise<number> {
  const response = await fetch(`http://127.0.0.1:9/quotes/${id}`, init); // nothing listens there
  return Number(await response.text());
}

for (let i = 0; i < 7; i++) {
  try {
    const quote = await breaker.execute((signal) => fetchQuote('42', { signal }));
    console.log('quote', quote);
  } catch (error) {
    if (isCircuitOpenError(error)) console.log(`rejected: retry in ${error.retryAfter} ms`);
    else console.log('failed:', (error as Error).message);
  }
}
console.log(breaker.stats());
breaker.dispose();
