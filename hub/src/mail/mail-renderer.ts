import nunjucks from 'nunjucks';
import { TEMPLATES_DIR } from '../views/views.js';
import { mailLocale, type MailLocale, type MailRequest, type RenderedMail } from './mail-message.js';

/** Looks up `namespace:key` in a language, with `{{name}}` values filled in (no escaping: the caller escapes). */
export type Translate = (locale: MailLocale, key: string, values?: Record<string, unknown>) => string;

const TEMPLATE_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * Renders `templates/mail/<template>.html.njk` (autoescaped) and `.txt.njk` (plain text, not
 * escaped: a link must stay a link) in the recipient's language. Both get `t(key, values)`,
 * `locale` and the request's `vars`; the subject is the translation of `mail:<template>.subject`.
 */
export class MailRenderer {
  readonly #html: nunjucks.Environment;
  readonly #text: nunjucks.Environment;

  constructor(
    private readonly translate: Translate,
    private readonly from: string,
    globals: Record<string, unknown> = {},
  ) {
    const loader = () => new nunjucks.FileSystemLoader(`${TEMPLATES_DIR}/mail`, { noCache: false });
    this.#html = new nunjucks.Environment(loader(), { autoescape: true, throwOnUndefined: false });
    this.#text = new nunjucks.Environment(loader(), { autoescape: false, throwOnUndefined: false });
    for (const [name, value] of Object.entries(globals)) {
      this.#html.addGlobal(name, value);
      this.#text.addGlobal(name, value);
    }
  }

  render(request: MailRequest): RenderedMail {
    if (!TEMPLATE_NAME.test(request.template)) throw new TypeError(`mail template names are lower-case words with dashes, not ${JSON.stringify(request.template)}`);
    const locale = mailLocale(request.locale);
    const vars = request.vars ?? {};
    const t = (key: string, values: Record<string, unknown> = {}) => this.translate(locale, key, { ...vars, ...values });
    const context = { ...vars, t, locale };
    // A subject is one header line: a value with a line break cannot add headers.
    const subject = t(`mail:${request.template}.subject`).replace(/[\r\n]+/g, ' ').trim();
    return {
      to: request.to,
      from: this.from,
      subject,
      html: this.#html.render(`${request.template}.html.njk`, context),
      text: this.#text.render(`${request.template}.txt.njk`, context).replace(/\n{3,}/g, '\n\n').trim() + '\n',
      locale,
      template: request.template,
    };
  }
}
