import { createServer, type Server, type Socket, connect } from 'node:net';

/**
 * A TCP proxy in front of Redis, so that one instance's link to Redis can fail while the others'
 * stays up: `hold()` stops forwarding (commands sent meanwhile wait, as on a congested link, and
 * time out), `release()` forwards again (what waited is delivered), `cut()` drops every open
 * connection at once (new ones are accepted). `sent()` counts what clients sent towards Redis, so
 * a test can see how much a client sends to a Redis that does not answer.
 */
export interface RedisProxy {
  readonly url: string;
  hold(): void;
  release(): void;
  cut(): void;
  /** Commands and bytes received from clients (every connection, since the proxy started). */
  sent(): { commands: number; bytes: number };
  /**
   * Commands clients sent that Redis has not answered yet, now: on each open connection, the
   * commands it sent minus the answers it received (pub/sub messages make a connection's count
   * negative; those count as 0).
   */
  unanswered(): number;
  close(): Promise<void>;
}

/**
 * Counts complete RESP values in a byte stream: the answers Redis sends a client (RESP2, and RESP3,
 * which ioredis speaks by default). One-line values: `+ - : _ , # (`. `$ = !` and a length: that
 * many bytes follow (none for -1). Aggregates of n values: `* ~ >` (none for -1 or 0), `%` (n
 * pairs), `|` (n pairs of attributes, then the value they describe).
 */
export class ReplyCounter {
  replies = 0;
  private line = '';
  private skip = 0;
  /** For each array being read, how many of its elements are still to come. */
  private readonly open: number[] = [];

  feed(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        if (this.skip === 0) this.complete();
        continue;
      }
      const end = chunk.indexOf(10, i);
      if (end === -1) {
        this.line += chunk.toString('latin1', i);
        return;
      }
      const line = (this.line + chunk.toString('latin1', i, end)).replace(/\r$/, '');
      this.line = '';
      i = end + 1;
      const type = line[0] ?? '';
      const size = Number(line.slice(1));
      if ('$=!'.includes(type) && size >= 0) this.skip = size + 2;
      else if ('*~>'.includes(type) && size > 0) this.open.push(size);
      else if (type === '%' && size > 0) this.open.push(2 * size);
      else if (type === '|') this.open.push(2 * size + 1);
      else this.complete();
    }
  }

  /** A value is complete: it is an answer, or one more element of the array it is in. */
  private complete(): void {
    for (;;) {
      const last = this.open.length - 1;
      if (last < 0) {
        this.replies++;
        return;
      }
      if (--this.open[last]! > 0) return;
      this.open.pop();
    }
  }
}

/**
 * Counts the commands in a client's byte stream. Clients (ioredis) send each command as a RESP
 * array of bulk strings (`*<n>`, then `$<len>` and that many bytes, each line ending in CRLF): a
 * command starts at each `*` header; bulk contents are skipped unread, so bytes inside them never
 * count as headers.
 */
export class CommandCounter {
  commands = 0;
  bytes = 0;
  /** An unfinished header line. */
  private line = '';
  /** Bytes of a bulk string (and its CRLF) still to skip. */
  private skip = 0;

  feed(chunk: Buffer): void {
    this.bytes += chunk.length;
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const end = chunk.indexOf(10, i);
      if (end === -1) {
        this.line += chunk.toString('latin1', i);
        return;
      }
      const line = (this.line + chunk.toString('latin1', i, end)).replace(/\r$/, '');
      this.line = '';
      i = end + 1;
      if (line.startsWith('*')) this.commands++;
      else if (line.startsWith('$')) this.skip = Number(line.slice(1)) + 2;
    }
  }
}

export async function startProxy(target: { host?: string; port: number }): Promise<RedisProxy> {
  const pairs = new Set<[Socket, Socket]>();
  /** Bytes that arrived while held, with where they go, in arrival order. */
  let waiting: Array<[Socket, Buffer]> = [];
  let held = false;
  const counters: Array<[CommandCounter, ReplyCounter, { open: boolean }]> = [];
  const forward = (from: Socket, to: Socket, counter?: { feed(chunk: Buffer): void }) =>
    from.on('data', (chunk: Buffer) => {
      counter?.feed(chunk);
      if (held) waiting.push([to, chunk]);
      else if (!to.destroyed) to.write(chunk);
    });
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host ?? '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const commands = new CommandCounter();
    const replies = new ReplyCounter();
    const link = { open: true };
    counters.push([commands, replies, link]);
    forward(client, upstream, commands);
    forward(upstream, client, replies);
    const drop = () => {
      link.open = false;
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `redis://127.0.0.1:${port}`,
    hold: () => {
      held = true;
    },
    release: () => {
      held = false;
      const chunks = waiting;
      waiting = [];
      for (const [to, chunk] of chunks) if (!to.destroyed) to.write(chunk);
    },
    sent: () => ({
      commands: counters.reduce((n, [c]) => n + c.commands, 0),
      bytes: counters.reduce((n, [c]) => n + c.bytes, 0),
    }),
    unanswered: () =>
      counters.reduce(
        (n, [c, r, link]) => (link.open ? n + Math.max(0, c.commands - r.replies) : n),
        0,
      ),
    cut: () => {
      waiting = [];
      for (const pair of [...pairs]) for (const s of pair) s.destroy();
      pairs.clear();
    },
    close: async () => {
      waiting = [];
      for (const pair of [...pairs]) for (const s of pair) s.destroy();
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
