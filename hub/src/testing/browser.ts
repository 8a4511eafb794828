import { request as httpRequest } from 'node:http';

/** One HTTP exchange over node:http, answered as a fetch `Response` (redirects not followed). */
function send(url: string, method: string, headers: Record<string, string>, body?: string, signal?: AbortSignal): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent: false, ...(signal ? { signal } : {}), headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const responseHeaders = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) responseHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
        const status = res.statusCode ?? 500;
        const payload = status === 204 || status === 304 ? null : Buffer.concat(chunks);
        resolve(new Response(payload, { status, headers: responseHeaders }));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * A minimal cookie-keeping HTTP client for protocol tests: follows no redirects by
 * itself, so each hop can be asserted. Cookies are kept per host; a cookie with a `Path`
 * below "/" is sent only under that path (as oidc-provider's per-interaction cookies need).
 */
export class TestBrowser {
  readonly jar = new Map<string, Map<string, string>>();

  /** `userAgent`: sent as `User-Agent` with every request that does not set one. */
  constructor(readonly userAgent?: string) {}

  cookies(url: string): Map<string, string> {
    const host = new URL(url).host;
    let cookies = this.jar.get(host);
    if (!cookies) {
      cookies = new Map();
      this.jar.set(host, cookies);
    }
    return cookies;
  }

  #store(url: string, response: Response): void {
    const cookies = this.cookies(url);
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attributes] = header.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index).trim();
      const value = pair!.slice(index + 1).trim();
      const expired = attributes.some((attr) => /^\s*max-age=0/i.test(attr) || /^\s*expires=thu, 01 jan 1970/i.test(attr));
      // A cookie scoped to a path below "/" (oidc-provider's per-interaction cookies) is kept
      // apart, so two sign-in pages open at once each keep their own, as in a browser.
      // Such a cookie is also kept by name in the host's jar (what tests read and set), which
      // is sent only where no path-scoped cookie of that name matches.
      const path = attributes.map((attr) => /^\s*path=(.*)$/i.exec(attr)?.[1]?.trim()).find((found) => found !== undefined);
      const jars: [Map<string, string>, string][] = [[cookies, name]];
      if (path && path !== '/') jars.push([this.#scopedJar(url), `${path}\n${name}`]);
      for (const [jar, key] of jars) {
        if (expired || value === '') jar.delete(key);
        else jar.set(key, value);
      }
    }
  }

  readonly #scoped = new Map<string, Map<string, string>>();

  #scopedJar(url: string): Map<string, string> {
    const host = new URL(url).host;
    let cookies = this.#scoped.get(host);
    if (!cookies) {
      cookies = new Map();
      this.#scoped.set(host, cookies);
    }
    return cookies;
  }

  /** The Cookie header for a URL: host-wide cookies, plus path-scoped ones whose path matches (RFC 6265 §5.1.4). */
  #cookieHeader(url: string): string {
    const { pathname } = new URL(url);
    const scoped: string[] = [];
    const scopedNames = new Set<string>();
    for (const [key, value] of this.#scopedJar(url)) {
      const [path, name] = key.split('\n') as [string, string];
      if (pathname === path || pathname.startsWith(path.endsWith('/') ? path : `${path}/`)) {
        scoped.push(`${name}=${value}`);
        scopedNames.add(name);
      }
    }
    const rest = [...this.cookies(url)].filter(([name]) => !scopedNames.has(name)).map(([name, value]) => `${name}=${value}`);
    return [...scoped, ...rest].join('; ');
  }

  async request(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    const has = (name: string) => Object.keys(headers).some((key) => key.toLowerCase() === name);
    const cookie = this.#cookieHeader(url);
    if (cookie) headers.cookie = cookie;
    if (!has('accept')) headers.accept = 'text/html';
    if (this.userAgent !== undefined && !has('user-agent')) headers['user-agent'] = this.userAgent;
    // Like a browser navigation. (node:http, not fetch: fetch forces `Sec-Fetch-Mode: cors`.)
    if (!has('sec-fetch-mode')) headers['sec-fetch-mode'] = 'navigate';
    const response = await send(url, init.method ?? 'GET', headers, init.body, init.signal);
    this.#store(url, response);
    return response;
  }

  get(url: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.request(url, { headers });
  }

  post(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    return this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
  }

  /**
   * Follows redirects from `url` until a non-redirect answer, or until a redirect leaves
   * the hosts in `within` (default: the first URL's host); returns the last URL.
   */
  async follow(url: string, within: string[] = [new URL(url).host], maxHops = 10): Promise<{ response: Response; url: string; body: string }> {
    let current = url;
    for (let hop = 0; hop < maxHops; hop += 1) {
      const response = await this.get(current);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        current = new URL(location, current).toString();
        if (!within.includes(new URL(current).host)) return { response, url: current, body: '' };
        continue;
      }
      return { response, url: current, body: await response.text() };
    }
    throw new Error(`too many redirects from ${url}`);
  }
}

/** The value of a hidden or text input in an HTML page. */
export function inputValue(html: string, name: string): string {
  const match = new RegExp(`name="${name}"[^>]*value="([^"]*)"`).exec(html) ?? new RegExp(`value="([^"]*)"[^>]*name="${name}"`).exec(html);
  if (!match) throw new Error(`no input ${name} in page`);
  return match[1]!.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

/**
 * The hidden fields of the form whose `action` is `action` in `html`, as a browser would send
 * them (the form must be there).
 */
export function hiddenFieldsOf(html: string, action: string): Record<string, string> {
  const start = html.indexOf(`action="${action}"`);
  if (start < 0) throw new Error(`no form with action ${action} in page`);
  const form = html.slice(start, html.indexOf('</form>', start));
  return Object.fromEntries([...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

/** The first form action (or link) matching a pattern, HTML-unescaped. */
export function attribute(html: string, pattern: RegExp): string {
  const match = pattern.exec(html);
  if (!match) throw new Error(`pattern ${pattern} not found in page`);
  return match[1]!.replace(/&amp;/g, '&');
}
