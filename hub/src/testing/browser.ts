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
 * itself, so each hop can be asserted. Cookies are kept per host, without path rules.
 */
export class TestBrowser {
  readonly jar = new Map<string, Map<string, string>>();

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
      if (expired || value === '') cookies.delete(name);
      else cookies.set(name, value);
    }
  }

  async request(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal } = {}): Promise<Response> {
    const cookies = this.cookies(url);
    const headers: Record<string, string> = { ...init.headers };
    const has = (name: string) => Object.keys(headers).some((key) => key.toLowerCase() === name);
    if (cookies.size) headers.cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (!has('accept')) headers.accept = 'text/html';
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

/** The first form action (or link) matching a pattern, HTML-unescaped. */
export function attribute(html: string, pattern: RegExp): string {
  const match = pattern.exec(html);
  if (!match) throw new Error(`pattern ${pattern} not found in page`);
  return match[1]!.replace(/&amp;/g, '&');
}
