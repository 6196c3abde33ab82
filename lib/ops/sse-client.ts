import type { ServerResponse } from 'node:http';

/**
 * The most a client's response may hold unsent in this process, in bytes. Beyond it, messages for
 * that client are dropped (and counted) until it reads again: a client that stops reading costs
 * at most this much memory here, and a write never waits for it.
 */
export const MAX_BUFFERED_BYTES = 64 * 1024;

/** Idle time before TCP keep-alive probes a stream's peer, in ms. */
const KEEP_ALIVE_MS = 30_000;

/** One server-sent-events response. Writes never block and never buffer past the bound. */
export class SseClient {
  /** Messages dropped because the client was not reading. */
  dropped = 0;
  /** The most bytes its response held unsent at once (measured after each write). */
  maxBuffered = 0;
  private closed = false;

  constructor(
    private readonly response: ServerResponse,
    /** The breaker this client follows, or `undefined` for every breaker. */
    readonly breaker: string | undefined,
    onClose: (client: SseClient) => void,
  ) {
    response.once('close', () => {
      this.closed = true;
      onClose(this);
    });
  }

  /** Sends the headers; `extra` are headers set on the response by the platform or middleware. */
  open(extra: Record<string, unknown>): void {
    const headers: Record<string, string | number | readonly string[]> = {};
    for (const [name, value] of Object.entries(extra)) {
      if (typeof value === 'string' || typeof value === 'number' || Array.isArray(value)) {
        headers[name] = value as string;
      }
    }
    this.response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // Reverse proxies (nginx) would otherwise hold the events back.
      'x-accel-buffering': 'no',
    });
    this.response.flushHeaders();
    // A peer that vanished without closing (a dropped network) is found by TCP keep-alive, and
    // its stream then closes, instead of holding its buffer forever.
    this.response.socket?.setKeepAlive(true, KEEP_ALIVE_MS);
  }

  /** Sends one message, or drops it if the client is not reading. Returns whether it was sent. */
  send(event: string, data: string): boolean {
    if (this.closed || this.response.destroyed) return false;
    const chunk = `event: ${event}\ndata: ${data}\n\n`;
    const response = this.response;
    if (response.writableLength + Buffer.byteLength(chunk) > MAX_BUFFERED_BYTES) {
      this.dropped++;
      return false;
    }
    response.write(chunk);
    if (response.writableLength > this.maxBuffered) this.maxBuffered = response.writableLength;
    return true;
  }

  /** Bytes its response holds unsent now. */
  get buffered(): number {
    return this.response.writableLength;
  }

  /**
   * Ends the stream and its connection at once: a client that stopped reading would otherwise
   * hold the server open while it shuts down.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const socket = this.response.socket;
    this.response.end();
    socket?.destroy();
  }
}
