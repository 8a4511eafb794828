/**
 * Two admins (or two tabs) rotate a subsite's client secret from pages opened before either
 * rotation: the second is refused (409, inside the console) and the secret the first one showed
 * keeps working. Before, the second rotation went through: with its overlap left empty it stopped
 * at once the secret the first admin was putting into the subsite (an exploratory review in two
 * Chromium browsers). A page opened after the rotation rotates as before.
 */
import { secretDigest, currentSecretDigest } from '../src/clients/client-secret.js';
import { hiddenFieldsOf } from '../src/testing/browser.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { signedInAdmin } from './support.js';

describe('console: rotating a client secret from a stale page', () => {
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub('memory');
    await hub.services.clients.register({ clientId: 'svc', name: 'Service', redirectUris: ['http://127.0.0.1:9/cb'] });
  }, 60_000);
  afterAll(() => hub.close());

  test('the second rotation is refused and the first one’s secret stays', async () => {
    const first = await signedInAdmin(hub);
    const second = await signedInAdmin(hub, { login: 'second', password: 'admin-password-2' });
    const page = `${hub.url}/admin/clients/svc`;
    const action = '/admin/clients/svc/rotate-secret';
    const formOne = hiddenFieldsOf(await (await first.get(page)).text(), action);
    const formTwo = hiddenFieldsOf(await (await second.get(page)).text(), action);

    const one = await first.post(`${hub.url}${action}`, { ...formOne, overlap: '3600' });
    expect(one.status).toBe(200);
    const shownSecret = /data-testid="client-secret">([^<]+)</.exec(await one.text())![1]!;

    const two = await second.post(`${hub.url}${action}`, { ...formTwo, overlap: '' });
    expect(two.status).toBe(409);
    expect(await two.text()).toContain('was rotated since this page was opened');
    expect(currentSecretDigest((await hub.services.clients.find('svc'))!)).toBe(secretDigest(shownSecret));

    // Opened again, the page rotates.
    const again = hiddenFieldsOf(await (await second.get(page)).text(), action);
    expect((await second.post(`${hub.url}${action}`, { ...again, overlap: '' })).status).toBe(200);
  });
});
