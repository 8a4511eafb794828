import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authcodeEncode } from '../../../hub/src/ucenter/authcode.js';
import { TestBrowser } from '../../../hub/src/testing/browser.js';
import { loadDemoConfig } from '../demo-config.js';
import { createForumSite } from './forum-site.js';

/** The demo forum's api/uc.php (a Discuz! stand-in), as a security review found it. */
describe('demo forum: UCenter notes', () => {
  const config = loadDemoConfig({});
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer(createForumSite(config));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const note = (query: string) => `${url}/api/uc.php?code=${encodeURIComponent(authcodeEncode(`${query}&time=${Math.floor(Date.now() / 1000)}`, config.forum.ucKey))}`;
  const member = async (browser: TestBrowser) => /data-testid="user-name">([^<]*)</.exec(await (await browser.get(`${url}/`)).text())?.[1];

  test('a sign-in note signs in one browser, once: a copied note URL signs in nobody else', async () => {
    const synlogin = note('action=synlogin&uid=7&username=alice');
    const first = new TestBrowser();
    await (await first.get(synlogin)).text();
    expect(await member(first)).toBe('alice');
    const second = new TestBrowser();
    await (await second.get(synlogin)).text();
    expect(await member(second)).toBeUndefined();
    // Nor the same note written another way (padding: base64 decoding ignores it).
    const third = new TestBrowser();
    await (await third.get(`${synlogin}%3D%3D`)).text();
    expect(await member(third)).toBeUndefined();
  });

  test('signing in by a note gives the browser a new session id: one planted before signs nobody in', async () => {
    const attacker = new TestBrowser();
    await (await attacker.get(`${url}/`)).text(); // a session (the form's CSRF token)
    const planted = attacker.cookies(url).get('forum.sid');
    expect(planted).toBeDefined();
    const victim = new TestBrowser();
    victim.cookies(url).set('forum.sid', planted!);
    await (await victim.get(note('action=synlogin&uid=8&username=bob'))).text();
    expect(await member(victim)).toBe('bob');
    expect(victim.cookies(url).get('forum.sid')).not.toBe(planted);
    expect(await member(attacker)).toBeUndefined();
  });

  test('updateapps comes as a POST with the application list, and is answered 1', async () => {
    const response = await fetch(note('action=updateapps'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'apps=x' });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('1');
  });
});

describe('demo forum: headers', () => {
  test('no framing, no sniffing, no referrer, pages not cached (a security review found none)', async () => {
    const server = createServer(createForumSite(loadDemoConfig({})));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const page = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      expect(page.headers.get('cache-control')).toBe('no-store');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
