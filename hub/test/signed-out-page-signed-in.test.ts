import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { TestBrowser } from '../src/testing/browser.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { isSignedIn, signOut } from './support.js';

const ALICE = { login: 'alice', password: 'wonderland-123' };

describe.each(STORE_KINDS)('the signed-out page in a browser signed in again since (%s)', (kind) => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub(kind);
    await hub.services.users.create({ username: ALICE.login, email: 'alice@example.test', password: ALICE.password });
  });
  afterAll(async () => {
    await hub.close();
  });

  // A browser review: Back through the history after signing out and in again reached
  // "You are signed out" while the browser was signed in.
  test('signed in: the account page, not "You are signed out"; signed out: the page as before', async () => {
    const browser = new TestBrowser();
    await signInAtPortal(hub, ALICE.login, ALICE.password, browser);
    const out = await signOut(browser, hub.url);
    expect(out.status).toBeLessThan(400);
    const signedOutPage = await browser.get(`${hub.url}/session/end/success`);
    expect(signedOutPage.status).toBe(200);
    expect(await signedOutPage.text()).toContain('data-testid="signed-out"');

    await signInAtPortal(hub, ALICE.login, ALICE.password, browser);
    expect(await isSignedIn(browser, hub.url)).toBe(true);
    const again = await browser.get(`${hub.url}/session/end/success`);
    await again.arrayBuffer();
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe('/account');
    expect(await isSignedIn(browser, hub.url)).toBe(true);
  });
});
