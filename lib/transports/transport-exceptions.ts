/**
 * The exception classes of the optional transport packages (`@nestjs/microservices`,
 * `@nestjs/websockets`), loaded lazily with `import()` so that the main entry loads
 * without them: a package that is not installed is simply absent. Nest's RPC and WebSocket
 * exception filters recognise an answer with `instanceof`, so the mapper must build it from the
 * application's own copy of the class, not from a look-alike.
 *
 * Loading starts when the first rejection mapper is made and is awaited by the module's mapper
 * at `onModuleInit`, so the classes are there before any call can be refused.
 */

/** `RpcException` / `WsException`: `new (error: string | object)`. */
export type ErrorPayloadExceptionClass = new (error: object) => Error;

interface TransportExceptions {
  RpcException?: ErrorPayloadExceptionClass;
  WsException?: ErrorPayloadExceptionClass;
}

const loaded: TransportExceptions = {};
let loading: Promise<void> | undefined;

/** A class exported as `name` by `load()`'s module, or `undefined` if it cannot be loaded. */
async function optionalClass<T>(load: () => Promise<object>, name: string): Promise<T | undefined> {
  try {
    const value = (await load()) as Record<string, unknown>;
    return typeof value[name] === 'function' ? (value[name] as T) : undefined;
  } catch {
    // Not installed (or not loadable): that transport is not in use.
    return undefined;
  }
}

/** Loads the optional transports' exception classes once; never rejects. */
export function loadTransportExceptions(): Promise<void> {
  loading ??= Promise.all([
    optionalClass<ErrorPayloadExceptionClass>(
      () => import('@nestjs/microservices'),
      'RpcException',
    ),
    optionalClass<ErrorPayloadExceptionClass>(() => import('@nestjs/websockets'), 'WsException'),
  ]).then(([rpc, ws]) => {
    loaded.RpcException = rpc;
    loaded.WsException = ws;
  });
  return loading;
}

/** The classes loaded so far (none before {@link loadTransportExceptions} settles). */
export function transportExceptions(): Readonly<TransportExceptions> {
  return loaded;
}
