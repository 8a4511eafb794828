/**
 * A request Node's HTTP parser refuses half-way (here a body whose chunk size is not hex) is the
 * client's fault: Node answers it 400 itself and closes the connection. A route already running
 * for it (GET /favicon.ico's sendFile) gets the parser's error; before, it reached the error
 * handler as an "unhandled error", logged at level error with its stack, on demand by anyone
 * (an outside review's bad-input sweep: one line per request, no sign-in needed).
 */
import { connect } from 'node:net';
import { captureLogger } from '../src/testing/capture-logger.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

/** Sends these bytes and reads the answer's status line (empty when there is none). */
function rawExchange(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1').split('\r\n', 1)[0] ?? ''));
    socket.on('error', reject);
  });
}

describe('a request the HTTP parser refuses half-way', () => {
  const { lines, logger } = captureLogger();
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('memory', {}, undefined, logger);
  });
  afterAll(() => hub.close());

  test.each(['/favicon.ico', '/static/hub.css', '/login'])('GET %s with a malformed chunked body: a 400, and no error line in the log', async (path) => {
    lines.length = 0;
    const host = new URL(hub.url).host;
    const status = await rawExchange(hub.url, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\nCookie: hub.sid=not-for-the-log\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`);
    expect(status).toBe('HTTP/1.1 400 Bad Request');
    // The route's own error arrives after the connection is gone: give it its turn.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(lines.filter((line) => line.level === 'error')).toEqual([]);
    // Nothing of the request's bytes (its cookies) in any line.
    expect(JSON.stringify(lines)).not.toContain('not-for-the-log');
  });
});
