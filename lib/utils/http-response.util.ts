import type { HttpAdapterHost } from '@nestjs/core';

/** The application's HTTP adapter, when one is at hand. */
export type HttpAdapter = HttpAdapterHost['httpAdapter'] | undefined;

/** An Express response or a Fastify reply, used directly when no adapter is at hand. */
interface ResponseLike {
  headersSent?: boolean;
  sent?: boolean;
  setHeader?(name: string, value: string): unknown;
  header?(name: string, value: string): unknown;
  status?(code: number): ResponseLike;
  code?(code: number): ResponseLike;
  json?(body: unknown): unknown;
  send?(body: unknown): unknown;
}

/** Whether the response's headers are already on the wire (nothing more can be set). */
export function areHeadersSent(adapter: HttpAdapter, response: unknown): boolean {
  if (adapter !== undefined) return Boolean(adapter.isHeadersSent(response));
  const raw = response as ResponseLike | null | undefined;
  return raw?.headersSent === true || raw?.sent === true;
}

/** Sets a response header, unless the headers are already sent. Express and Fastify. */
export function setResponseHeader(
  adapter: HttpAdapter,
  response: unknown,
  name: string,
  value: string,
): void {
  if (areHeadersSent(adapter, response)) return;
  if (adapter !== undefined) {
    adapter.setHeader(response, name, value);
    return;
  }
  const raw = response as ResponseLike;
  if (typeof raw.setHeader === 'function') raw.setHeader(name, value);
  else raw.header?.(name, value);
}

/**
 * Answers with `status` and a JSON `body`, or only ends the response when its headers are
 * already sent. Through the adapter when there is one, else on the Express or Fastify response.
 */
export function replyWith(
  adapter: HttpAdapter,
  response: unknown,
  body: unknown,
  status: number,
): unknown {
  if (adapter !== undefined) {
    if (adapter.isHeadersSent(response)) return adapter.end(response);
    return adapter.reply(response, body, status);
  }
  const raw = response as ResponseLike;
  if (areHeadersSent(adapter, raw)) return undefined;
  const withStatus = typeof raw.code === 'function' ? raw.code(status) : raw.status?.(status);
  if (typeof withStatus?.json === 'function') return withStatus.json(body);
  return withStatus?.send?.(body);
}
