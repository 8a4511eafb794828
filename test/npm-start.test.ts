/**
 * Issue 9 item 16: `kill` (SIGTERM) of the `npm start` process must stop the whole demo: the
 * hub and the three sites stop listening, nothing is left behind. `npm start` is run as a
 * user runs it; the test only signals the npm process itself.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, portRefuses, waitForOk } from '../hub/src/testing/hub-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function within(ms: number, probe: () => Promise<boolean>): Promise<boolean> {
  const until = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

test('SIGTERM to `npm start` stops the hub and every demo site', async () => {
  // Every port the demo opens is given (the forum's default, the hub's + 4, may be another process's port).
  const ports = { HUB_PORT: await freePort(), BBS_PORT: await freePort(), WIKI_PORT: await freePort(), SHOP_PORT: await freePort(), FORUM_PORT: await freePort() };
  // Its own process group, so whatever happens the test can clean up exactly what it started.
  const npm = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true,
    stdio: 'ignore',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) },
  });
  const exited = new Promise<number | string>((resolve) => npm.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  try {
    await waitForOk(`http://127.0.0.1:${ports.HUB_PORT}/healthz`, 90_000);
    expect(await within(30_000, async () => !(await portRefuses(ports.SHOP_PORT)))).toBe(true);
    process.kill(npm.pid!, 'SIGTERM');
    await exited;
    for (const port of Object.values(ports)) {
      expect(await within(15_000, () => portRefuses(port))).toBe(true);
    }
  } finally {
    try {
      process.kill(-npm.pid!, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  }
}, 150_000);
