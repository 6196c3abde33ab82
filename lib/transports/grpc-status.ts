import type { CircuitBreakerRejection } from './rejection.js';
import type { CircuitBreakerRejectionPayload } from './rejection-payload.js';

/** gRPC's status code `UNAVAILABLE`: the service cannot answer now; retrying later may work. */
export const GRPC_UNAVAILABLE = 14;

/** The subset of `@grpc/grpc-js`'s `Metadata` the mapper uses. */
interface GrpcMetadata {
  set(key: string, value: string): void;
  getMap(): unknown;
}

/**
 * Whether `context` (a microservice handler's RPC context) is a gRPC call's `Metadata`: Nest's gRPC
 * server hands handlers `(request, metadata, call)`, and every other transport a context object
 * without these methods.
 */
export function isGrpcMetadata(context: unknown): context is GrpcMetadata {
  if (context === null || typeof context !== 'object') return false;
  const candidate = context as Partial<Record<'set' | 'getMap' | 'clone', unknown>>;
  return (
    typeof candidate.set === 'function' &&
    typeof candidate.getMap === 'function' &&
    typeof candidate.clone === 'function'
  );
}

/** What a gRPC service answers a refused call with: what `@grpc/grpc-js` reads from an error. */
export interface GrpcRejectionStatus {
  /** `14` (`UNAVAILABLE`). */
  readonly code: number;
  /** The status message. */
  readonly details: string;
  /** Also the status message, for code that reads `message`. */
  readonly message: string;
  /** The trailers sent with the status. */
  readonly metadata: unknown;
}

/**
 * The gRPC status for a refusal, in `UNAVAILABLE`, with trailers made from the call's own
 * `Metadata` class (the application's copy of `@grpc/grpc-js`, never imported here):
 * `circuit-breaker-code` (the stable code); when the refusal says when to retry, `retry-after-ms`
 * and gRPC's standard `grpc-retry-pushback-ms` (milliseconds, rounded up), which a client with a
 * retry policy honours; for a circuit held open by hand `grpc-retry-pushback-ms: -1`, which tells
 * such a client not to retry.
 */
export function grpcRejectionStatus(
  error: CircuitBreakerRejection,
  payload: CircuitBreakerRejectionPayload,
  callMetadata: GrpcMetadata,
): GrpcRejectionStatus {
  const Metadata = callMetadata.constructor as new () => GrpcMetadata;
  const trailers = new Metadata();
  trailers.set('circuit-breaker-code', payload.code);
  const retryAfter = (error as { retryAfter?: unknown }).retryAfter;
  if (typeof retryAfter === 'number' && Number.isFinite(retryAfter)) {
    const ms = String(Math.max(0, Math.ceil(retryAfter)));
    trailers.set('retry-after-ms', ms);
    trailers.set('grpc-retry-pushback-ms', ms);
  } else if (payload.code === 'CIRCUIT_ISOLATED') {
    trailers.set('grpc-retry-pushback-ms', '-1');
  }
  const details = `${payload.code}: ${payload.message}`;
  return { code: GRPC_UNAVAILABLE, details, message: details, metadata: trailers };
}
