import type { ServerResponse } from 'node:http';

/** An Express request or a Fastify request, as far as the ops routes read it. */
interface RequestLike {
  user?: unknown;
  ip?: unknown;
  socket?: { remoteAddress?: string };
  raw?: { socket?: { remoteAddress?: string } };
}

const MAX_NAME = 200;

/**
 * Who is asking: the `id`, `username`, `sub` or `email` of the `request.user` a guard set (or
 * `request.user` itself if it is a string), otherwise the client's IP address.
 */
export function requestedBy(request: unknown): string {
  const r = (request ?? {}) as RequestLike;
  const user = r.user as Record<string, unknown> | string | undefined | null;
  if (typeof user === 'string' && user !== '') return user.slice(0, MAX_NAME);
  if (typeof user === 'object' && user !== null) {
    for (const key of ['id', 'username', 'sub', 'email']) {
      const value = user[key];
      if ((typeof value === 'string' && value !== '') || typeof value === 'number') {
        return String(value).slice(0, MAX_NAME);
      }
    }
  }
  const ip = typeof r.ip === 'string' ? r.ip : (r.socket ?? r.raw?.socket)?.remoteAddress;
  return ip ?? 'unknown';
}

/** An Express response (a Node `ServerResponse`) or a Fastify reply. */
interface ResponseLike {
  raw?: ServerResponse;
  hijack?(): unknown;
  getHeaders?(): Record<string, unknown>;
}

/**
 * The Node response under an Express response or a Fastify reply, taken over for streaming (a
 * Fastify reply is hijacked, so Fastify sends nothing itself), with the headers already set on it.
 */
export function takeOverResponse(response: unknown): {
  raw: ServerResponse;
  headers: Record<string, unknown>;
} {
  const r = response as ResponseLike & ServerResponse;
  if (r.raw !== undefined && typeof r.hijack === 'function') {
    const headers = { ...r.raw.getHeaders(), ...(r.getHeaders?.() ?? {}) };
    r.hijack();
    return { raw: r.raw, headers };
  }
  return { raw: r, headers: {} };
}
