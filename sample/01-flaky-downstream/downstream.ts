import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A deliberately flaky downstream service: a plain Node HTTP server on a local port that answers
 * `GET /quote/:id` with a JSON quote, or with 500 while it is "down".
 *
 * `POST /fail` and `POST /recover` switch it, for manual use with `npm run sample:serve`.
 */
export class FlakyDownstream {
  private healthy = true;
  private server: Server | undefined;
  /** Requests that reached the downstream service. */
  requests = 0;

  /** Starts listening on 127.0.0.1 (`port` 0 picks a free port); resolves with its base URL. */
  async start(port = 0): Promise<string> {
    const server = createServer((req, res) => {
      if (req.method === 'POST' && (req.url === '/fail' || req.url === '/recover')) {
        this.healthy = req.url === '/recover';
        res.writeHead(204).end();
        return;
      }
      const match = /^\/quote\/([\w-]+)$/.exec(req.url ?? '');
      if (req.method !== 'GET' || match === null) {
        res.writeHead(404).end();
        return;
      }
      this.requests++;
      if (!this.healthy) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'downstream is down' }));
        return;
      }
      const id = match[1]!;
      const price = 100 + ([...id].reduce((sum, c) => sum + c.charCodeAt(0), 0) % 50);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id, price }));
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Every request fails with 500 from now on. */
  fail(): void {
    this.healthy = false;
  }

  /** Requests succeed again. */
  recover(): void {
    this.healthy = true;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
