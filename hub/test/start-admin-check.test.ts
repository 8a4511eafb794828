/**
 * A start does not wait for the walk that looks for an admin (to warn when there is none): it
 * reads the users 500 at a time, and with a forum's 300,000 imported members a start waited for
 * hundreds of store round trips before it listened (a last read). The warning comes when the walk ends.
 */
import { jest } from '@jest/globals';
import { main, type RunningMain } from '../src/main.js';
import { freePort } from '../src/testing/hub-process.js';

let running: RunningMain | undefined;
const warnings: string[] = [];

beforeAll(() => {
  // The hub's warn lines go to stderr: kept here, not printed.
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    warnings.push(String(chunk));
    return true;
  });
});

afterAll(async () => {
  jest.restoreAllMocks();
  await running?.close();
});

test('the hub listens while the walk is still going; "no admin account exists yet" once it found none', async () => {
  const port = await freePort();
  let finish!: (found: boolean) => void;
  running = await main({ HUB_PORT: String(port), HUB_ISSUER: `http://127.0.0.1:${port}`, LOG_LEVEL: 'warn' }, async (services) => {
    services.users.someAdmin = () => new Promise<boolean>((resolve) => (finish = resolve));
  });
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  const noAdmin = () => warnings.filter((line) => line.includes('no admin account exists yet'));
  expect(noAdmin()).toEqual([]);
  finish(false);
  await new Promise((resolve) => setImmediate(resolve));
  expect(noAdmin()).toHaveLength(1);
});
