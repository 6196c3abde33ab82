import { type CanActivate, type ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';

/**
 * HTTP Basic authentication for the ops routes: user `ops`, the password given. Basic rather than
 * a bearer token because a browser sends it by itself on every same-origin request once asked,
 * the dashboard's event stream included (an `EventSource` cannot set headers). On success it sets
 * `request.user`, which the ops module records as who changed a state.
 */
export class OpsBasicAuthGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(password: string) {
    this.expected = Buffer.from(`ops:${password}`);
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<{
      headers: Record<string, string | undefined>;
      user?: unknown;
    }>();
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Basic ')
      ? Buffer.from(header.slice(6), 'base64')
      : Buffer.alloc(0);
    if (given.length === this.expected.length && timingSafeEqual(given, this.expected)) {
      request.user = { username: 'ops' };
      return true;
    }
    // Ask the browser for credentials (Express's response; Fastify's reply has `header`).
    const response = http.getResponse<{
      setHeader?: (name: string, value: string) => void;
      header?: (name: string, value: string) => void;
    }>();
    const challenge = 'Basic realm="circuit breakers", charset="UTF-8"';
    if (typeof response.setHeader === 'function') response.setHeader('WWW-Authenticate', challenge);
    else response.header?.('WWW-Authenticate', challenge);
    throw new UnauthorizedException();
  }
}
