import type Provider from 'oidc-provider';
import { ProtocolHooks } from './protocol-hooks.js';

/**
 * OpenID Connect Core §3.1.2.1 defines `prompt=select_account`: the hub SHOULD let the person
 * choose the account. oidc-provider knows only `login`, `consent` and `none`, and refused it
 * with invalid_request ("unsupported prompt value requested"), so a relying party configured
 * to send it (a common setting of libraries written for multi-account providers) could never
 * sign anyone in. A browser holds one hub session, and the sign-in page is where another
 * account is chosen: the hub asks for it as for `prompt=login`.
 */
export function installSelectAccountPrompt(provider: Provider): void {
  ProtocolHooks.of(provider).before((ctx) => {
    // Matched as oidc-provider's router matches it: in any letter case.
    // (Length first: every protocol GET passes here, userinfo's too, and most are not /auth.)
    if (ctx.method !== 'GET' || ctx.path.length !== 5 || ctx.path.toLowerCase() !== '/auth') return true;
    const { prompt } = ctx.query;
    if (typeof prompt !== 'string' || !prompt.includes('select_account')) return true;
    const values = new Set(prompt.split(' ').map((value) => (value === 'select_account' ? 'login' : value)));
    ctx.query = { ...ctx.query, prompt: [...values].join(' ') };
    return true;
  });
}
