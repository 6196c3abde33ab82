import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The downstream quote service of sample 03: a plain Node HTTP server on a local port.
 * `GET /quotes/:id` answers a JSON quote, `404` for an id it does not know (ids starting with
 * `unknown`), and `500` for everything while it is "down".
 */
export class QuoteService {
  private healthy = true;
  private server: Server | undefined;
  /** Requests that reached the service. */
  requests = 0;

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      const match = /^\/quotes\/([\w-]+)$/.exec(req.url ?? '');
      if (req.method !== 'GET' || match === null) {
        res.writeHead(404).end();
        return;
      }
      this.requests++;
      const id = match[1]!;
      if (!this.healthy) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'the quote service is down' }));
        return;
      }
      if (id.startsWith('unknown')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `no quote for ${id}` }));
        return;
      }
      const price = 100 + ([...id].reduce((sum, c) => sum + c.charCodeAt(0), 0) % 50);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id, price }));
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
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
