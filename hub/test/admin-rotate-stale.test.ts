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
import { basic, postForm, signedInAdmin } from './support.js';

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

  test('"End the overlap now" from a page opened before another rotation is refused: the secret that page showed as current keeps working (before, it was stopped at once)', async () => {
    await hub.services.clients.register({ clientId: 'svc2', name: 'Service 2', grantTypes: ['client_credentials'] });
    const first = await signedInAdmin(hub, { login: 'third', password: 'admin-password-3' });
    const second = await signedInAdmin(hub, { login: 'fourth', password: 'admin-password-4' });
    const page = `${hub.url}/admin/clients/svc2`;
    const rotate = '/admin/clients/svc2/rotate-secret';
    const end = '/admin/clients/svc2/end-secret-overlap';
    // A rotation with an overlap: S1 previous, S2 current, and the subsite still on S1.
    const rotated = await first.post(`${hub.url}${rotate}`, { ...hiddenFieldsOf(await (await first.get(page)).text(), rotate), overlap: '3600' });
    const s2 = /data-testid="client-secret">([^<]+)</.exec(await rotated.text())![1]!;
    // The second admin's page offers to end that overlap (stop S1).
    const endForm = hiddenFieldsOf(await (await second.get(page)).text(), end);
    // The first admin rotates again with an overlap: S2 previous (the subsite may be on it), S3 current.
    const again = await first.post(`${hub.url}${rotate}`, { ...hiddenFieldsOf(await (await first.get(page)).text(), rotate), overlap: '3600' });
    expect(again.status).toBe(200);
    const ended = await second.post(`${hub.url}${end}`, endForm);
    expect(ended.status).toBe(409);
    expect(await ended.text()).toContain('was rotated again since this page was opened');
    const client = (await hub.services.clients.find('svc2'))!;
    expect(client.previousSecret?.digest).toBe(secretDigest(s2));
    expect((await postForm(`${hub.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('svc2', s2) })).status).toBe(200);
    // Opened again, the page ends the new overlap.
    const fresh = hiddenFieldsOf(await (await second.get(page)).text(), end);
    expect((await second.post(`${hub.url}${end}`, fresh)).status).toBe(303);
    expect((await hub.services.clients.find('svc2'))!.previousSecret).toBeUndefined();
  });
});
