import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';

/**
 * OpenID Connect Core §3.1.2.1 defines `prompt=select_account`: the hub SHOULD let the person
 * choose the account. oidc-provider's default policy knows only `login` and `consent` (and
 * `none`), and refused it with invalid_request ("unsupported prompt value requested"), at the
 * authorization endpoint and at the pushed-request endpoint, so a relying party configured to
 * send it (a common setting of libraries written for multi-account providers) could never sign
 * anyone in. A browser holds one hub session, and the sign-in page is where another account is
 * chosen: the hub asks for it as for `prompt=login`, once per authorization request.
 */
export function addSelectAccountPrompt(policy: ReturnType<typeof interactionPolicy.base>): void {
  const { Prompt, Check } = interactionPolicy;
  // Requestable, so the value is accepted; without checks of its own (oidc-provider's would show
  // a page of its own, until a result named select_account came back): the login prompt asks.
  const selectAccount = new Prompt({ name: 'select_account', requestable: true });
  selectAccount.checks.clear();
  policy.push(selectAccount);
  policy.get('login')!.checks.add(
    new Check('select_account_prompt', 'the client asked for the account to be chosen', 'account_selection_required', (ctx: KoaContextWithOIDC) =>
      ctx.oidc.prompts.has('select_account') && !ctx.oidc.result?.login ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT,
    ),
  );
}
