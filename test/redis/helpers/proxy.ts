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
  close(): Promise<void>;
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
  const counters: CommandCounter[] = [];
  const forward = (from: Socket, to: Socket, counter?: CommandCounter) =>
    from.on('data', (chunk: Buffer) => {
      counter?.feed(chunk);
      if (held) waiting.push([to, chunk]);
      else if (!to.destroyed) to.write(chunk);
    });
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host ?? '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const counter = new CommandCounter();
    counters.push(counter);
    forward(client, upstream, counter);
    forward(upstream, client);
    const drop = () => {
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
      commands: counters.reduce((n, c) => n + c.commands, 0),
      bytes: counters.reduce((n, c) => n + c.bytes, 0),
    }),
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
