import type { Server } from 'node:http';
import { createHash } from 'node:crypto';

/**
 * Names and secrets shared by the load generator and the servers under test. Secrets are
 * derived from a per-run salt (passed down in `BENCH_SALT`), so the processes agree on them
 * without a side channel and no run reuses another's.
 */
export const PASSWORD = 'bench-password-123';
export const SERVICE_CLIENT = 'bench-service';
export const RP_CLIENT = 'bench-rp';
export const RP_REDIRECT = 'http://127.0.0.1:9/cb';

export function username(i: number): string {
  return `bench-user-${i}`;
}

/** The client id of the i-th subsite. */
export function subsiteId(i: number): string {
  return `s${i}`;
}

/**
 * The loopback address subsite i listens on, so every subsite has an origin of its own
 * (127.1.x.y: all of 127.0.0.0/8 is the loopback interface on Linux, nothing to set up).
 */
export function subsiteHost(i: number): string {
  return `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

/** Subsite i's origin, given the port every subsite of a bench server shares. */
export function subsiteOrigin(i: number, port: number): string {
  return `http://${subsiteHost(i)}:${port}`;
}

/** A 43-character secret for `purpose`, from the run's salt. */
export function derivedSecret(salt: string, purpose: string): string {
  return createHash('sha256').update(`${salt}:${purpose}`).digest('base64url');
}

/** Reads a required environment variable of a bench process. */
export function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`bench: ${name} is not set`);
  return value;
}

/** Prints the line the load generator waits for: the server is listening. */
export function announceReady(info: Record<string, unknown>): void {
  process.stdout.write(`BENCH_READY ${JSON.stringify(info)}\n`);
}

/** Runs `close` on SIGTERM/SIGINT, then exits (so `--cpu-prof` profiles get written). */
export function onStop(close: () => Promise<void>): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    close()
      .catch((error: unknown) => process.stderr.write(`close failed: ${String(error)}\n`))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/**
 * Listens on 127.0.0.1:`port` (0: any free port), closes the server and then `cleanup` on
 * SIGTERM/SIGINT, and announces readiness with the port and `info`.
 */
export async function serve(server: Server, port: number, cleanup: () => Promise<void>, info: Record<string, unknown> = {}): Promise<void> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  onStop(async () => {
    server.closeAllConnections();
    server.close();
    await cleanup();
  });
  announceReady({ port: (server.address() as { port: number }).port, ...info });
}
