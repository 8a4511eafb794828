import { TestBrowser } from '../src/testing/browser.js';
import { continueUrlOf, signInAt } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, codeRequest } from './support.js';

const REDIRECT = 'http://rp.test/cb';
const PASSWORD = 'wonderland-123';

/**
 * A rolling update (or a rollback) runs two versions of the hub on one Redis: a record one
 * writes, the other reads. These cases write what the previous version wrote (reproduced with
 * the previous commit's hub and this one behind one balancer) and check this version reads it.
 */
describe('records written by the previous version of the hub (redis)', () => {
  let hub: RunningHub;
  let n = 0;

  beforeAll(async () => {
    hub = await startTestHub('redis');
    await hub.services.clients.register({ clientId: 'rp', trusted: true, redirectUris: [REDIRECT] });
  });
  afterAll(() => hub.close());

  /**
   * The previous version's sign-in left `{ login }` on its interaction, without the password
   * check's sign-in generation. For a user whose sign-ins this version had once ended (so with a
   * generation), the resume here compared '' with it and sent the browser back to the sign-in
   * page: behind a round-robin balancer, every other sign-in of such a user during the update.
   */
  test('a sign-in whose password an older hub checked resumes here, for a user whose sign-ins were ended before', async () => {
    n += 1;
    const user = await hub.services.users.create({ username: `mixed${n}`, email: `mixed${n}@example.test`, password: PASSWORD });
    // Earlier, on this version: "end all sessions" (or a password reset) gave the user a generation.
    await hub.services.lifecycle.endAllSessions(user.id);
    expect((await hub.services.users.findById(user.id))?.signInGeneration).toBeTruthy();
    const browser = new TestBrowser();
    const start = await browser.follow(authUrl(hub.url, codeRequest('rp', REDIRECT).params));
    const { response, body } = await signInAt(browser, hub.url, start.url, user.username, PASSWORD);
    expect(response.status).toBe(200);
    const continueUrl = continueUrlOf(body, hub.url);
    // The result as the older hub stored it: the same, without signInGeneration.
    const uid = decodeURIComponent(new URL(continueUrl).pathname.split('/').pop()!);
    const interaction = (await hub.services.provider.Interaction.find(uid))!;
    const { signInGeneration: _dropped, ...asOlderHubWroteIt } = interaction.result as Record<string, unknown>;
    interaction.result = asOlderHubWroteIt;
    await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));

    const landed = await browser.follow(continueUrl);
    expect(new URL(landed.url).origin).toBe(new URL(REDIRECT).origin);
    expect(new URL(landed.url).searchParams.get('code')).toBeTruthy();
  });

  test('a generation recorded by this version is still checked (an ending after the password refuses the resume)', async () => {
    n += 1;
    const user = await hub.services.users.create({ username: `mixed${n}`, email: `mixed${n}@example.test`, password: PASSWORD });
    const browser = new TestBrowser();
    const start = await browser.follow(authUrl(hub.url, codeRequest('rp', REDIRECT).params));
    const { body } = await signInAt(browser, hub.url, start.url, user.username, PASSWORD);
    await hub.services.lifecycle.endAllSessions(user.id);
    const landed = await browser.follow(continueUrlOf(body, hub.url));
    expect(landed.body).toMatch(/action="\/interaction\/[^"]+\/login"/);
  });
});
