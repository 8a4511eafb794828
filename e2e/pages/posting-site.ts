import { createServer, type Server } from 'node:http';
import type { Page } from '@playwright/test';

/**
 * A relying party that sends its authorization request as a form POST (OIDC Core §3.1.2.1), as
 * some sites do to keep `state`, `nonce` and `login_hint` out of URLs: `/` is the form, `/cb`
 * a plain page. A real server (the hub's redirect back to `/cb` is not something a Playwright
 * route can answer: a route sees only the first request of a redirect chain).
 */
export class PostingSite {
  /** Every URL the tab's top frame showed, in order: what the address bar and the history held. */
  readonly shown: string[] = [];
  /** Every URL the tab navigated to, redirects included: what proxies and access logs on the way saw. */
  readonly requested: string[] = [];
  #server: Server | undefined;

  constructor(
    readonly page: Page,
    readonly origin: string,
  ) {
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) this.shown.push(frame.url());
    });
    page.on('request', (request) => {
      if (request.isNavigationRequest()) this.requested.push(request.url());
    });
  }

  /** Starts the site on `port` (loopback): `/` a form POSTing `fields` to `action`. */
  async start(port: number, action: string, fields: Record<string, string>): Promise<void> {
    const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
    const inputs = Object.entries(fields).map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}">`).join('');
    const server = createServer((req, res) => {
      const body = (req.url ?? '/').split('?', 1)[0] === '/'
        ? `<!doctype html><title>RP</title><form method="post" action="${escape(action)}">${inputs}<button data-testid="rp-submit">Sign in</button></form>`
        : '<!doctype html><title>RP callback</title><p data-testid="rp-callback">back</p>';
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async open(): Promise<void> {
    await this.page.goto(`${this.origin}/`);
  }

  /** Submits the form (a top-level cross-site POST to the hub). */
  async submit(): Promise<void> {
    await this.page.getByTestId('rp-submit').click();
  }
}
