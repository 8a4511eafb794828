import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitForOk } from '../hub/src/testing/hub-process.js';
import { startMailbox } from './mailbox.js';
import { DEMO_ENV, KEY_PREFIX, PORTS, REDIS_URL } from './ports.js';
import { deleteRunKeys } from './redis-cleanup.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STOP_WAIT_MS = 15_000;

/**
 * Starts the demo (hub + bbs + wiki + shop) on Redis under the run's key prefix, and returns
 * the teardown: stop the demo with SIGTERM (it stops gracefully), then delete every key of the
 * run, so the shared Redis keeps nothing of it (issue 9, item 16). Not Playwright's
 * `webServer`: that one is stopped after the global teardown, while the demo can still write.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  // A real SMTP server for the hub's mail (password reset, e-mail change), before the hub starts.
  const mailbox = await startMailbox(PORTS.smtp);
  const demo = spawn(process.execPath, ['--import', 'tsx', 'demo-sites/src/start-demo.ts'], {
    cwd: ROOT,
    detached: true, // its own process group: the teardown can always clean up what it started
    env: { ...process.env, ...DEMO_ENV },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => demo.once('exit', () => resolve()));
  const killGroup = () => {
    try {
      process.kill(-demo.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  try {
    await waitForOk(`http://127.0.0.1:${PORTS.hub}/readyz`, 90_000);
    await waitForOk(`http://127.0.0.1:${PORTS.shop}/`, 30_000);
  } catch (error) {
    killGroup();
    await mailbox.close();
    throw error;
  }
  return async () => {
    demo.kill('SIGTERM');
    const timer = setTimeout(killGroup, STOP_WAIT_MS);
    await exited;
    clearTimeout(timer);
    await mailbox.close();
    const deleted = await deleteRunKeys(REDIS_URL, KEY_PREFIX);
    process.stdout.write(`e2e teardown: demo stopped, ${deleted} keys under ${KEY_PREFIX} deleted\n`);
  };
}
