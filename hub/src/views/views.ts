import { fileURLToPath } from 'node:url';
import nunjucks from 'nunjucks';

/** The repository's `templates/` folder. */
export const TEMPLATES_DIR = fileURLToPath(new URL('../../../templates', import.meta.url));

/** Nunjucks with autoescape on: every value a page shows is HTML-escaped unless marked safe. */
export class Views {
  readonly env: nunjucks.Environment;

  constructor(globals: Record<string, unknown> = {}) {
    this.env = new nunjucks.Environment(new nunjucks.FileSystemLoader(TEMPLATES_DIR, { noCache: false }), {
      autoescape: true,
      throwOnUndefined: false,
    });
    for (const [name, value] of Object.entries(globals)) this.env.addGlobal(name, value);
    // Epoch milliseconds as an ISO 8601 time (admin console).
    this.env.addFilter('isotime', (ms: unknown) => (typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : ''));
  }

  render(name: string, context: Record<string, unknown> = {}): string {
    return this.env.render(name, context);
  }
}
