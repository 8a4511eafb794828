/**
 * SIGHUP (the terminal or ssh session a hub was started from closes; an operator's `kill -HUP`,
 * the reload signal of nginx and many daemons) stops the hub gracefully, as SIGTERM does. Before,
 * Node's default for SIGHUP ended the process at once: a request in flight got no answer, and
 * audit entries waiting for their batch were lost (an operator review).
 */
import { jest } from '@jest/globals';
import { connect } from 'node:net';
import { startHubProcess, type HubProcess } from '../src/testing/hub-process.js';

// A hub process (tsx compiles it): slow on a loaded 2-core machine.
jest.setTimeout(120_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let hub: HubProcess | undefined;
afterEach(async () => {
  await hub?.stop('SIGKILL');
  hub = undefined;
});

test('a request in flight when SIGHUP arrives is answered, and the process exits 0 after its graceful stop', async () => {
  // The embedded store: nothing outside the process is needed to see how it stops.
  hub = await startHubProcess({ SHUTDOWN_TIMEOUT_MS: '5000', LOG_LEVEL: 'info' });
  const socket = connect(hub.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = '';
  const answer = new Promise<string>((resolve) => {
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('close', () => resolve(received));
    socket.on('error', () => undefined);
  });
  const body = 'username=nobody&password=not-the-password';
  socket.write(`POST /login HTTP/1.1\r\nHost: 127.0.0.1:${hub.port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
  await sleep(200); // the hub has read the headers: the request is in flight
  hub.child.kill('SIGHUP');
  await sleep(400);
  socket.write(body.slice(10));
  expect(await answer).toMatch(/^HTTP\/1\.1 [1-4]\d\d /);
  expect(await hub.exited).toBe(0);
  expect(hub.stdout() + hub.stderr()).toContain('hub stopped');
});
