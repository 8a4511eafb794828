import type { Server } from 'node:net';

/** A server that could not start listening; the message names the port and the variable to change. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  constructor(
    message: string,
    /** The system error code (`EADDRINUSE`, `EACCES`, …). */
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export interface ListenTarget {
  /** Who listens, first in the message: `hub`, `hub metrics`, `bbs`. */
  service: string;
  port: number;
  host: string;
  /** The variable that sets the port (`HUB_PORT`). */
  portVariable: string;
  /** The variable that sets the interface, where there is one (`HUB_HOST`). */
  hostVariable?: string;
}

/** One line for an operator: what is wrong with the port or address, and which variable to change. */
export function listenErrorMessage(target: ListenTarget, error: NodeJS.ErrnoException): string {
  const { service, port, host, portVariable, hostVariable } = target;
  switch (error.code) {
    case 'EADDRINUSE':
      return `${service}: port ${port} (${portVariable}) is already in use: stop what listens there or set ${portVariable}`;
    case 'EACCES':
      return `${service}: port ${port} (${portVariable}) needs privileges to listen on: set ${portVariable} to a port above 1023`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${service}: cannot listen on ${host}${hostVariable ? ` (${hostVariable})` : ''}: no such address on this machine${hostVariable ? `: set ${hostVariable}` : ''}`;
    default:
      return `${service}: cannot listen on ${host}:${port} (${portVariable}): ${error.code ?? error.message}`;
  }
}

/**
 * `server.listen`, as a promise that rejects (with a {@link ListenError}) instead of an
 * unhandled 'error' event when the port is taken, not allowed or the address is not local.
 */
export function listen(server: Server, target: ListenTarget): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(new ListenError(listenErrorMessage(target, error), error.code));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(target.port, target.host);
  });
}
