/**
 * Issue 9 item 10: only the configured public origin is ever used to build URLs. oidc-provider
 * routes without regard to case, so a Host pin that only matched lower-case protocol paths let
 * `Host: evil.example` (or a client-supplied `X-Forwarded-Host` behind a trusted proxy) reach
 * discovery and the sign-out form.
 */
import { TestBrowser } from '../src/testing/browser.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';

const FORGED = { host: 'evil.example' };
const FORGED_PROXY = { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' };
const DISCOVERY_PATHS = ['/.well-known/openid-configuration', '/.WELL-KNOWN/openid-configuration', '/.Well-Known/OpenID-Configuration'];
const END_SESSION_PATHS = ['/session/end', '/SESSION/END', '/Session/End'];

/** Every URL-looking string in a JSON document. */
function urlsIn(value: unknown): string[] {
  if (typeof value === 'string') return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(urlsIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(urlsIn);
  return [];
}

async function discovery(hub: RunningHub, path: string, headers: Record<string, string>) {
  const answer = await new TestBrowser().get(`${hub.url}${path}`, { ...headers, accept: 'application/json' });
  expect(answer.status).toBe(200);
  return (await answer.json()) as Record<string, unknown>;
}

async function endSessionForm(hub: RunningHub, path: string, headers: Record<string, string>): Promise<string> {
  const answer = await new TestBrowser().get(`${hub.url}${path}`, headers);
  expect(answer.status).toBe(200);
  const html = await answer.text();
  expect(html).toMatch(/<form[^>]+action="[^"]+"/);
  return html;
}

function expectOnlyIssuer(hub: RunningHub, urls: string[]) {
  expect(urls.length).toBeGreaterThan(0);
  for (const url of urls) expect(new URL(url).origin).toBe(hub.url);
}

/** The absolute form actions of a page (a relative one resolves on the hub). */
function formActions(hub: RunningHub, html: string): string[] {
  return [...html.matchAll(/action="([^"]+)"/g)].map((match) => new URL(match[1]!.replace(/&amp;/g, '&'), hub.url).toString());
}

describe.each(STORE_KINDS)('the public origin is pinned on every path, whatever its case (%s)', (kind) => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub(kind);
  });
  afterAll(() => hub.close());

  test.each(DISCOVERY_PATHS)('Host: evil.example on %s: discovery names only the issuer', async (path) => {
    const document = await discovery(hub, path, FORGED);
    expect(document.issuer).toBe(hub.url);
    expectOnlyIssuer(hub, urlsIn(document));
  });

  test.each(END_SESSION_PATHS)('Host: evil.example on %s: the sign-out form posts to the issuer', async (path) => {
    const html = await endSessionForm(hub, path, FORGED);
    expect(html).not.toContain('evil.example');
    expectOnlyIssuer(hub, formActions(hub, html));
  });

  test('without a trusted proxy, X-Forwarded-Host and X-Forwarded-Proto change nothing', async () => {
    for (const path of DISCOVERY_PATHS) expectOnlyIssuer(hub, urlsIn(await discovery(hub, path, FORGED_PROXY)));
  });
});

describe.each(STORE_KINDS)('behind a trusted proxy (HUB_TRUST_PROXY=true), forwarded host and scheme are the issuer\'s (%s)', (kind) => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub(kind, { HUB_TRUST_PROXY: 'true' });
  });
  afterAll(() => hub.close());

  test.each(DISCOVERY_PATHS)('X-Forwarded-Host: evil.example, X-Forwarded-Proto: https on %s', async (path) => {
    const document = await discovery(hub, path, { ...FORGED, ...FORGED_PROXY });
    expect(document.issuer).toBe(hub.url);
    expectOnlyIssuer(hub, urlsIn(document));
  });

  test.each(END_SESSION_PATHS)('X-Forwarded-Host: evil.example on %s: the sign-out form posts to the issuer', async (path) => {
    const html = await endSessionForm(hub, path, FORGED_PROXY);
    expect(html).not.toContain('evil.example');
    expectOnlyIssuer(hub, formActions(hub, html));
  });
});
