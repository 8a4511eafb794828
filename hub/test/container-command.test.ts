/**
 * The command the image and compose start the hub with must be the process that receives
 * SIGTERM. `npx tsx hub/src/main.ts` was not: npx exits on SIGTERM without passing it on, the
 * hub (a grandchild) never logs "hub stopping" and keeps listening, and in a container the
 * runtime then kills it outright, so SHUTDOWN_DELAY_MS, the /readyz drain and the in-flight
 * requests are lost (found by a review). This runs the exact commands of the Dockerfile and of
 * docker-compose.yml, sends SIGTERM to the process they start, and expects a graceful stop.
 * Both run the hub compiled (`npm run build`, as the image does before it starts): the build
 * runs first, and the compiled hub must find its templates and translations.
 */
import { beforeAll, expect, jest } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort, portRefuses as refused, waitForOk } from '../src/testing/hub-process.js';

jest.setTimeout(120_000);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function dockerfileCommand(): string[] {
  const line = readFileSync(`${ROOT}Dockerfile`, 'utf8').split('\n').find((text) => text.startsWith('CMD '));
  return JSON.parse(line!.slice(4)) as string[];
}

/** The `command:` of compose's `x-hub` anchor (the two hub replicas' definition). */
function composeHubCommand(): string[] {
  const text = readFileSync(`${ROOT}docker-compose.yml`, 'utf8');
  const anchor = text.slice(text.indexOf('x-hub: &hub'));
  const match = /^\s+command: (\[.*\])$/m.exec(anchor);
  return JSON.parse(match![1]!) as string[];
}


beforeAll(() => {
  // What the Dockerfile runs after copying the sources (hub/src → hub/dist).
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NPM_CONFIG_UPDATE_NOTIFIER: 'false' } });
  expect({ status: build.status, output: build.status === 0 ? '' : `${build.stdout}${build.stderr}` }).toEqual({ status: 0, output: '' });
});

test('the compiled CLI (`node hub/dist/cli.js`, as the README gives it for the image) runs', () => {
  const help = spawnSync(process.execPath, ['hub/dist/cli.js', '--help'], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' } });
  expect({ status: help.status, stderr: help.stderr.includes('Error') ? help.stderr : '' }).toEqual({ status: 0, stderr: '' });
  expect(`${help.stdout}${help.stderr}`).toMatch(/admin bootstrap/);
});

describe.each([
  ['the Dockerfile CMD', dockerfileCommand],
  ["docker-compose.yml's hub command", composeHubCommand],
])('%s stops gracefully on SIGTERM', (_name, command) => {
  test('the process started gets the signal: "hub stopping", exit 0, the port closed', async () => {
    const argv = command();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HUB_PORT: String(port), HUB_ISSUER: url, LOG_LEVEL: 'info', NPM_CONFIG_UPDATE_NOTIFIER: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // a process group of its own: whatever it starts can be stopped with it
    });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
    try {
      await waitForOk(`${url}/readyz`, 60_000);
      // The compiled hub finds templates/ (a page, its stylesheet) and hub/locales/ (the page's words).
      const page = await fetch(`${url}/no-such-page`);
      expect(page.status).toBe(404);
      expect(await page.text()).toContain('<title>Page not found');
      expect((await fetch(`${url}/static/hub.css`)).status).toBe(200);
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(() => resolve('still running after 15 s'), 15_000)))]);
      clearTimeout(timer);
      expect(code).toBe(0);
      expect(out).toContain('hub stopping');
      expect(out).toContain('"msg":"hub stopped"'); // the stop said done, last (an operator review)
      expect(await refused(port)).toBe(true); // no orphaned hub left listening
    } finally {
      // The whole group, so an orphaned hub (the old npx form) does not outlive the test.
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
});
