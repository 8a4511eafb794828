import type Provider from 'oidc-provider';
import { localeOfContext } from '../i18n/locale-middleware.js';
import { translator } from '../i18n/i18n.js';
import { escapeHtml } from '../sync/beacon-markup.js';
import { ProtocolHooks } from './protocol-hooks.js';

/** oidc-provider's own page that posts a form on to its target (response_mode=form_post, a sign-out with no hub session). */
const TITLE = '<title>Submitting Callback</title>';
const NO_SCRIPT = "Your browser does not support JavaScript or you've disabled it.<br/>";
const BUTTON = '<button autofocus type="submit">Continue</button>';
/** oidc-provider's routes whose answer may be that page: the authorization endpoint and its resume, a sign-out with no hub session, the device flow's. */
const FORM_POSTING_ROUTES = ['authorization', 'resume', 'end_session', 'code_verification'];

/**
 * oidc-provider answers a sign-in to a site that asked for `response_mode=form_post`, and a
 * sign-out at `/session/end` in a browser with no hub session, with a page of its own that posts
 * a form on by script: no `lang`, no viewport, the title "Submitting Callback" and, without
 * JavaScript, an English sentence and a "Continue" button, on a Chinese hub too (an
 * accessibility review). The page is given the reader's language (`<html lang>`, title, text,
 * button) and a viewport. Its script is left as it is: the Content-Security-Policy allows it by
 * its hash. The hidden fields' values are escaped by oidc-provider, so none can pass for the
 * fragments replaced here.
 */
export function installFormPostPage(provider: Provider): void {
  // Only the routes that answer with it (oidc-provider's response_modes/form_post.js callers), not
  // every protocol request: the token endpoints' answers are strings the check would scan.
  ProtocolHooks.of(provider).after(FORM_POSTING_ROUTES, (ctx) => {
    const body: unknown = ctx.body;
    if (typeof body !== 'string' || !body.includes(TITLE)) return;
    const locale = localeOfContext(ctx);
    const t = translator(locale);
    ctx.body = body
      .replace('<html>', `<html lang="${escapeHtml(locale)}">`)
      .replace('<head>', '<head>\n  <meta charset="utf-8">\n  <meta name="viewport" content="width=device-width, initial-scale=1">')
      .replace(TITLE, `<title>${escapeHtml(t('common:formPost.title'))}</title>`)
      .replace(NO_SCRIPT, `${escapeHtml(t('common:formPost.noScript'))}<br/>`)
      .replace(BUTTON, `<button autofocus type="submit">${escapeHtml(t('common:formPost.continue'))}</button>`);
  });
}
