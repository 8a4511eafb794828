import { spawn, type ChildProcess } from 'node:child_process';

/**
 * PHP's built-in server (`php -S`) for tests that run a PHP application against the hub: one
 * process (no PHP_CLI_SERVER_WORKERS: its workers outlive a SIGTERM to the parent), ready once
 * `probeUrl` answers. Fails (never skips) when php-cli is missing.
 */
export async function startPhpServer(args: string[], env: Record<string, string>, probeUrl: string): Promise<ChildProcess> {
  const php = spawn('php', ['-S', ...args], { env: { ...process.env, ...env }, stdio: 'ignore' });
  for (let tries = 0; ; tries++) {
    if (await fetch(probeUrl).then(() => true, () => false)) return php;
    if (tries > 100 || php.exitCode !== null) throw new Error('php -S did not start (is php-cli installed?)');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Stops a server from {@link startPhpServer} and waits for it to exit. */
export async function stopPhpServer(php: ChildProcess | undefined): Promise<void> {
  if (!php || php.exitCode !== null) return;
  const exited = new Promise((resolve) => php.once('exit', resolve));
  php.kill('SIGTERM');
  await exited;
}
