import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadDemoConfig } from './demo-config.js';
import { createDemoSite } from './site.js';

const METRICS_TOKEN = 'demo-metrics-token-0123456789abcdefghij';

/** The demo sites answer /favicon.ico (issue 9, item 15): every origin used to log a 404. */
describe('demo site', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    const config = loadDemoConfig({ DEMO_METRICS_TOKEN: METRICS_TOKEN });
    const app = await createDemoSite(config.sites.bbs, config);
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('/favicon.ico is an icon, also for a browser that looks like a page view', async () => {
    for (const accept of ['image/avif,image/webp,image/*,*/*;q=0.8', 'text/html,*/*']) {
      const response = await fetch(`${url}/favicon.ico`, { headers: { accept }, redirect: 'manual' });
      const body = Buffer.from(await response.arrayBuffer());
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^image\//);
      expect([...body.subarray(0, 4)]).toEqual([0, 0, 1, 0]);
    }
  });

  test('pages are not cached and not sniffed; the stylesheet keeps its own caching', async () => {
    const page = await fetch(`${url}/`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    await page.arrayBuffer();
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const css = await fetch(`${url}/static/demo.css`);
    await css.arrayBuffer();
    expect(css.headers.get('cache-control')).not.toBe('no-store');
  });

  test('the kit\'s /healthz and /readyz (compose healthchecks) answer, with no cookie', async () => {
    for (const path of ['/healthz', '/readyz']) {
      const response = await fetch(`${url}${path}`);
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
      expect(response.headers.get('set-cookie')).toBeNull();
      await response.arrayBuffer();
    }
  });

  test('/metrics: the kit\'s counters with DEMO_METRICS_TOKEN, 404 without it', async () => {
    const denied = await fetch(`${url}/metrics`);
    await denied.arrayBuffer();
    expect(denied.status).toBe(404);
    const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('sso_kit_sync_requests_total');
  });
});

describe('demo configuration', () => {
  test('HUB_URL and the internal URLs are http(s) URLs with a host, HUB_URL an origin: refused naming the variable (the kit named its option hubUrl, the hub HUB_ISSUER)', () => {
    expect(() => loadDemoConfig({ HUB_URL: 'hub.sso.localhost:4000' })).toThrow('HUB_URL: must be an http:// or https:// URL with a host');
    expect(() => loadDemoConfig({ HUB_URL: 'ftp://hub.sso.localhost' })).toThrow('HUB_URL: must be an http:// or https:// URL with a host');
    expect(() => loadDemoConfig({ HUB_URL: 'http://hub.sso.localhost:4000/sso' })).toThrow('HUB_URL: must be an origin only');
    expect(() => loadDemoConfig({ HUB_INTERNAL_URL: 'lb:4000' })).toThrow('HUB_INTERNAL_URL: must be an http:// or https:// URL with a host');
    expect(() => loadDemoConfig({ BBS_INTERNAL_URL: 'bbs:4001' })).toThrow('BBS_INTERNAL_URL: must be an http:// or https:// URL with a host');
    expect(loadDemoConfig({ HUB_URL: 'http://hub.sso.localhost:4000/', HUB_INTERNAL_URL: 'http://lb:4000' }).hubUrl).toBe('http://hub.sso.localhost:4000');
  });
  test('a port is whole decimal digits, as the hub reads HUB_PORT: hex, exponents and words are refused naming the variable (they were taken: BBS_PORT=0x0FA1 ran on 4001, HUB_PORT=1e3 on 1000)', () => {
    for (const [name, value] of [['BBS_PORT', '0x0FA1'], ['HUB_PORT', '1e3'], ['WIKI_PORT', ' 4002'], ['SHOP_PORT', '+4003'], ['FORUM_PORT', 'abc']] as const) {
      expect(() => loadDemoConfig({ [name]: value })).toThrow(`${name}: must be a port number in decimal digits, 1 to 65535`);
    }
    expect(() => loadDemoConfig({ BBS_PORT: '70000' })).toThrow('BBS_PORT: must be a port number, 1 to 65535');
    expect(loadDemoConfig({ BBS_PORT: '4101' }).sites.bbs.port).toBe(4101);
    expect(loadDemoConfig({}).sites.bbs.port).toBe(4001);
  });
  test('a port browsers refuse (a Fetch "bad port") is refused at start, naming the variable (a review: the demo ran on HUB_PORT=6000 and nobody could sign in)', () => {
    expect(() => loadDemoConfig({ HUB_PORT: '6000' })).toThrow(/HUB_PORT: browsers and Node's fetch refuse port 6000/);
    expect(() => loadDemoConfig({ BBS_PORT: '6665' })).toThrow(/BBS_PORT: browsers and Node's fetch refuse port 6665/);
    expect(loadDemoConfig({ HUB_PORT: '6010' }).hubUrl).toContain(':6010');
    // The forum's default port (the hub's + 4) too.
    expect(() => loadDemoConfig({ HUB_PORT: '6662' })).toThrow(/FORUM_PORT: its default, HUB_PORT \+ 4 = 6666: browsers and Node's fetch refuse port 6666/);
    expect(loadDemoConfig({ HUB_PORT: '6662', FORUM_PORT: '6700' }).forum.port).toBe(6700);
  });
});
