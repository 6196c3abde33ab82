import { createServer, type Server, type Socket, connect } from 'node:net';

/**
 * A TCP proxy in front of Redis, so that one instance's link to Redis can fail while the others'
 * stays up: `hold()` stops forwarding (commands sent meanwhile wait, as on a congested link, and
 * time out), `release()` forwards again (what waited is delivered), `cut()` drops every open
 * connection at once (new ones are accepted).
 */
export interface RedisProxy {
  readonly url: string;
  hold(): void;
  release(): void;
  cut(): void;
  close(): Promise<void>;
}

export async function startProxy(target: { host?: string; port: number }): Promise<RedisProxy> {
  const pairs = new Set<[Socket, Socket]>();
  /** Bytes that arrived while held, with where they go, in arrival order. */
  let waiting: Array<[Socket, Buffer]> = [];
  let held = false;
  const forward = (from: Socket, to: Socket) =>
    from.on('data', (chunk: Buffer) => {
      if (held) waiting.push([to, chunk]);
      else if (!to.destroyed) to.write(chunk);
    });
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host ?? '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    forward(client, upstream);
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
