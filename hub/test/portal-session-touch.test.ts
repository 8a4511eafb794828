/**
 * A portal page whose session could not be touched (the store failed after the session was
 * read): express-session touches an unchanged session once the answer's headers are out and
 * used to hand the failure to the error handler, which could only log "error after the answer
 * started" and cut the connection, perhaps before the page had gone out whole. A missed touch
 * only skips one refresh of the session's TTL: the page goes out whole and one warning is logged.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { TestBrowser } from '../src/testing/browser.js';
import { captureLogger } from '../src/testing/capture-logger.js';
import { faultyStore } from '../src/testing/faulty-store.js';
import { MemoryStore } from '../src/store/memory.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

const faulty = faultyStore(new MemoryStore());
const capture = captureLogger();
let hub: RunningHub;

beforeAll(async () => {
  hub = await startTestHub('memory', {}, faulty.store, capture.logger);
});
afterAll(() => hub.close());

it('a failed touch of the portal session: the page goes out whole, one warning, no error (before: the connection cut after the answer)', async () => {
  const browser = new TestBrowser();
  let url = `${hub.url}/login`;
  let page = await browser.get(url);
  for (let hop = 0; page.headers.get('location') && hop < 5; hop += 1) {
    url = new URL(page.headers.get('location')!, url).toString();
    page = await browser.get(url);
  }
  expect(page.status).toBe(200);
  expect(url).toContain('/interaction/');

  const touches: string[] = [];
  faulty.plan((method, key) => {
    if (!key.includes('portal-sess') || method === 'get') return 'ok';
    touches.push(method);
    return 'fail';
  });
  try {
    const again = await browser.get(url);
    expect(again.status).toBe(200);
    expect(await again.text()).toMatch(/<\/html>\s*$/);
  } finally {
    faulty.plan(undefined);
  }
  expect(touches.length).toBeGreaterThan(0); // the touch was made, and failed
  await new Promise((resolve) => setTimeout(resolve, 100)); // express-session hands a failure on in a setImmediate
  expect(capture.lines.filter((line) => line.level === 'warn' && line.message.startsWith('portal session touch failed'))).toHaveLength(1);
  expect(capture.lines.filter((line) => line.level === 'error')).toEqual([]);
});
