import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The dependency both instances call: `GET /quote/:id` answers a JSON quote, or 500 while it is
 * down. It counts the requests it receives from each instance (the `x-instance` header), which is
 * how the sample proves that an instance refused calls without ever sending them.
 */
export class Downstream {
  /** Requests received, by instance. */
  readonly received: Record<string, number> = {};
  private down = false;
  private latency = 0;
  private server: Server | undefined;

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      const instance = String(req.headers['x-instance'] ?? '?');
      this.received[instance] = (this.received[instance] ?? 0) + 1;
      const answer = () => {
        if (this.down) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'downstream is down' }));
          return;
        }
        const id = /^\/quote\/([\w-]+)$/.exec(req.url ?? '')?.[1] ?? 'unknown';
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id, price: 100 + id.length }));
      };
      if (this.latency > 0) setTimeout(answer, this.latency);
      else answer();
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Every request fails with 500 from now on. */
  fail(): void {
    this.down = true;
  }

  /** Requests succeed again, each after `latency` ms. */
  recover(latency = 0): void {
    this.down = false;
    this.latency = latency;
  }

  /** Requests received from every instance. */
  total(): number {
    return Object.values(this.received).reduce((sum, n) => sum + n, 0);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
