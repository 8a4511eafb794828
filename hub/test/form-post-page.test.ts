/**
 * oidc-provider's page that posts a form on (a sign-out at /session/end with no hub session, an
 * answer to a site that asked for response_mode=form_post) is in the reader's language, with
 * `lang` and a viewport (an accessibility review: "Submitting Callback", no `lang`, and without
 * JavaScript an English sentence and button, on a Chinese hub too). Its script is unchanged, so
 * the Content-Security-Policy's hash still allows it.
 */
import { createHash } from 'node:crypto';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

describe("oidc-provider's form-posting page, in the reader's language", () => {
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub('memory', {});
    await hub.services.clients.register({ clientId: 'mysite', name: 'My site', redirectUris: ['http://mysite.test/sso/callback'] });
  });
  afterAll(() => hub.close());

  const get = (path: string, lang: string) => fetch(`${hub.url}${path}`, { redirect: 'manual', headers: { accept: 'text/html', cookie: `lang=${lang}` } });

  async function expectLocalised(answer: Response, lang: string, title: string, button: string): Promise<string> {
    const html = await answer.text();
    expect(html).toContain(`<html lang="${lang}">`);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain(`<title>${title}</title>`);
    expect(html).toContain(`<button autofocus type="submit">${button}</button>`);
    expect(html).not.toContain('Submitting Callback');
    expect(html).not.toContain('does not support JavaScript');
    // The script still runs: its hash is the one the policy names (where a policy is sent).
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const policy = answer.headers.get('content-security-policy');
    if (policy?.includes('sha256-')) expect(policy).toContain(`'sha256-${createHash('sha256').update(script).digest('base64')}'`);
    return html;
  }

  test('a sign-out with no hub session, in Chinese and in English', async () => {
    const zh = await get('/session/end', 'zh-CN');
    expect(zh.status).toBe(200);
    const html = await expectLocalised(zh, 'zh-CN', '正在继续…', '继续');
    expect(html).toContain('此浏览器未启用 JavaScript');
    await expectLocalised(await get('/session/end', 'en'), 'en', 'Continuing…', 'Continue');
  });

  test('an error answered to a site by response_mode=form_post', async () => {
    const query = new URLSearchParams({
      client_id: 'mysite', redirect_uri: 'http://mysite.test/sso/callback', response_type: 'code', scope: 'openid',
      code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', response_mode: 'form_post', prompt: 'bogus',
    });
    const answer = await get(`/auth?${query}`, 'zh-CN');
    const html = await expectLocalised(answer, 'zh-CN', '正在继续…', '继续');
    expect(html).toContain('action="http://mysite.test/sso/callback"');
    expect(html).toContain('name="error" value="invalid_request"');
  });
});
