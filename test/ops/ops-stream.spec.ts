/**
 * The server-sent event stream over real HTTP, on Express and Fastify: transitions as they happen,
 * summaries on connect and on the shared timer, a client that stops reading (a raw socket that
 * never reads) held to a bounded buffer, a client that vanishes forgotten, and every stream ended
 * when the application closes. Waits are on conditions, deadlines only guard against hangs.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { CircuitBreakerOpsEvent, CircuitBreakerOpsSummary } from '../../lib/ops/index.js';
import { MAX_BUFFERED_BYTES } from '../../lib/ops/sse-client.js';
import { eventually } from '../core/helpers/eventually.js';
import {
  type OpsApp,
  PLATFORMS,
  post,
  readStream,
  type SseReader,
  startOpsApp,
  TOKEN,
  TokenGuard,
} from './fixture/ops-app.js';

interface Summary {
  time: string;
  circuitBreakers: Record<string, CircuitBreakerOpsSummary>;
}

const summaries = (reader: SseReader) =>
  reader.messages.filter((m) => m.event === 'summary').map((m) => m.data as Summary);
const transitions = (reader: SseReader) =>
  reader.messages
    .filter((m) => m.event === 'transition')
    .map((m) => m.data as CircuitBreakerOpsEvent);

/** A raw client that sends the request and then never reads a byte. */
function stalledClient(url: string, path: string): Promise<Socket> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-ops-token: ${TOKEN}\r\n\r\n`, () =>
        resolve(socket),
      );
      socket.pause();
    });
    socket.on('error', reject);
  });
}

describe.each(PLATFORMS)('the event stream on %s', (platform) => {
  let ops: OpsApp | undefined;
  const readers: SseReader[] = [];
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const r of readers.splice(0)) r.close();
    for (const s of sockets.splice(0)) s.destroy();
    await ops?.close();
    ops = undefined;
  });

  const open = (path: string, headers?: Record<string, string>) => {
    const reader = readStream(`${ops!.url}${path}`, headers);
    readers.push(reader);
    return reader;
  };

  it('sends a summary on connect, then every transition as it happens, manual ones as their own type', async () => {
    ops = await startOpsApp(platform, { guards: [TokenGuard], streamSummaryInterval: 3_600_000 });
    const reader = open('/actuator/streamcircuitbreakerevents');
    expect(await reader.status).toBe(200);
    expect((await reader.headers)['content-type']).toMatch(/^text\/event-stream/);
    await eventually(() => expect(summaries(reader)).toHaveLength(1));
    const [first] = summaries(reader);
    expect(Object.keys(first!.circuitBreakers)).toEqual(['inventory', 'payments']);
    expect(first!.circuitBreakers.payments).toMatchObject({
      state: 'CLOSED',
      lastTransition: null,
    });
    expect(Date.parse(first!.time)).not.toBeNaN();

    const payments = ops.registry.get('payments');
    for (let i = 0; i < 3; i++)
      await payments.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    await eventually(() => expect(transitions(reader)).toHaveLength(1));
    expect(transitions(reader)[0]).toMatchObject({
      circuitBreakerName: 'payments',
      type: 'STATE_TRANSITION',
      stateTransition: 'CLOSED_TO_OPEN',
    });
    await post(
      ops,
      '/actuator/circuitbreakers/payments',
      { updateState: 'CLOSE' },
      { 'x-user': 'carol' },
    );
    await eventually(() => expect(transitions(reader)).toHaveLength(2));
    expect(transitions(reader)[1]).toMatchObject({
      type: 'RESET',
      stateTransition: 'OPEN_TO_CLOSED',
      requestedBy: 'carol',
    });
    // Calls are not streamed one by one: only transitions (and the summaries).
    expect(reader.messages.map((m) => m.event)).toEqual(['summary', 'transition', 'transition']);
  });

  it('sends a summary every interval with the calls settled in it, from one timer stopped when the last client leaves', async () => {
    ops = await startOpsApp(platform, { guards: [TokenGuard], streamSummaryInterval: 100 });
    expect(ops.stream.stats().timerRunning).toBe(false);
    const reader = open('/actuator/streamcircuitbreakerevents');
    const other = open('/actuator/streamcircuitbreakerevents/inventory');
    await eventually(() => expect(ops!.stream.stats().clients).toBe(2));
    expect(ops.stream.stats().timerRunning).toBe(true);
    const payments = ops.registry.get('payments');
    const calls = 5;
    for (let i = 0; i < calls; i++) await payments.execute(() => Promise.resolve(i));
    await payments.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    // Every call settled after the connect summary shows up in exactly one interval's summary.
    await eventually(() => {
      const later = summaries(reader).slice(1);
      expect(later.reduce((n, s) => n + s.circuitBreakers.payments!.calls, 0)).toBe(calls + 1);
      expect(later.reduce((n, s) => n + s.circuitBreakers.payments!.failedCalls, 0)).toBe(1);
    }, 10_000);
    const busy = summaries(reader).find((s) => s.circuitBreakers.payments!.calls > 0)!;
    expect(busy.circuitBreakers.payments!.callsPerSecond).toBeGreaterThan(0);
    expect(busy.circuitBreakers.payments).toMatchObject({ state: 'CLOSED', notPermittedCalls: 0 });
    // The one-breaker stream summarises that breaker only.
    await eventually(() => expect(summaries(other).length).toBeGreaterThan(1), 10_000);
    for (const s of summaries(other)) expect(Object.keys(s.circuitBreakers)).toEqual(['inventory']);

    reader.close();
    other.close();
    await eventually(() =>
      expect(ops!.stream.stats()).toMatchObject({ clients: 0, timerRunning: false }),
    );
  });

  it('holds a client that stops reading to a bounded buffer, dropping what does not fit, while others keep up', async () => {
    ops = await startOpsApp(platform, { guards: [TokenGuard], streamSummaryInterval: 3_600_000 });
    const stalled = await stalledClient(ops.url, '/actuator/streamcircuitbreakerevents');
    sockets.push(stalled);
    const reader = open('/actuator/streamcircuitbreakerevents/inventory');
    await eventually(() => expect(ops!.stream.stats().clients).toBe(2));
    const payments = ops.registry.get('payments');
    const stalledStats = () =>
      ops!.stream.stats().perClient.find((c) => c.dropped > 0 || c.maxBuffered > 1_000);
    // Transitions until the stalled client's socket buffers are full and messages are dropped
    // (loopback buffers hold megabytes); bounded, in case nothing is ever dropped.
    let sent = 0;
    while ((stalledStats()?.dropped ?? 0) === 0 && sent < 2_000_000) {
      for (let i = 0; i < 1_000; i++) {
        payments.isolate();
        payments.reset();
      }
      sent += 2_000;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const held = stalledStats()!;
    expect(held.dropped).toBeGreaterThan(0);
    expect(held.maxBuffered).toBeLessThanOrEqual(MAX_BUFFERED_BYTES);
    expect(held.buffered).toBeLessThanOrEqual(MAX_BUFFERED_BYTES);
    // A reading client of another breaker still gets its transitions at once.
    ops.registry.get('inventory').isolate();
    await eventually(() =>
      expect(transitions(reader).map((t) => t.type)).toEqual(['FORCED_OPEN_STATE']),
    );
  });

  it('forgets a client that vanishes', async () => {
    ops = await startOpsApp(platform, { guards: [TokenGuard], streamSummaryInterval: 100 });
    const reader = open('/actuator/streamcircuitbreakerevents');
    await eventually(() => expect(summaries(reader).length).toBeGreaterThan(0));
    const stalled = await stalledClient(ops.url, '/actuator/streamcircuitbreakerevents/payments');
    await eventually(() => expect(ops!.stream.stats().clients).toBe(2));
    stalled.destroy();
    reader.close();
    await eventually(() =>
      expect(ops!.stream.stats()).toMatchObject({ clients: 0, timerRunning: false }),
    );
    // Transitions with nobody connected go nowhere (and fail nothing).
    ops.registry.get('payments').isolate();
  });

  it('ends every stream when the application closes, a stalled one too', async () => {
    ops = await startOpsApp(platform, { guards: [TokenGuard], streamSummaryInterval: 100 });
    const reader = open('/actuator/streamcircuitbreakerevents/inventory');
    const stalled = await stalledClient(ops.url, '/actuator/streamcircuitbreakerevents');
    sockets.push(stalled);
    await eventually(() => expect(ops!.stream.stats().clients).toBe(2));
    const { stream } = ops;
    // Fill the stalled client's socket until this process holds bytes it cannot send.
    const payments = ops.registry.get('payments');
    const stuck = () => stream.stats().perClient.some((c) => c.buffered > 0);
    for (let sent = 0; !stuck() && sent < 2_000_000; sent += 2_000) {
      for (let i = 0; i < 1_000; i++) {
        payments.isolate();
        payments.reset();
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    expect(stuck()).toBe(true);
    // Resolves only once the HTTP server has closed: no connection, the stalled one included, held it.
    await ops.close();
    ops = undefined;
    await reader.ended;
    expect(stream.stats()).toMatchObject({ clients: 0, timerRunning: false });
  });

  it("refuses a stream without the guard's consent", async () => {
    ops = await startOpsApp(platform);
    const reader = open('/actuator/streamcircuitbreakerevents', { 'x-ops-token': 'nope' });
    expect(await reader.status).toBe(403);
    expect(ops.stream.stats().clients).toBe(0);
  });
});
