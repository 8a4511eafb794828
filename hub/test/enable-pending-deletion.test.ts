/**
 * An account whose deletion is being finished (cut off part-way: `users pending-deletions`, the
 * console's "deletion pending") cannot be enabled: `users enable` and the console's Enable are
 * refused (409, saying the deletion is being finished), the account stays disabled and does not
 * sign in, and the hub's resumer still deletes it. Before, either enabled it: the user signed in
 * again and got codes and tokens until the resumer deleted the account up to two minutes (or,
 * after failed tries, up to an hour) later, and the subsites, told of the deletion before that
 * sign-in, were never told again (an operator review: `users delete` killed with SIGKILL midway,
 * then `users enable` of the same login; README: "the account, disabled meanwhile, never signs in").
 */
import { jest } from '@jest/globals';
import { ConflictError } from '../src/errors.js';
import { hiddenFieldsOf } from '../src/testing/browser.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { StoreUnavailableError } from '../src/store/store.js';
import { signedInAdmin } from './support.js';

const PASSWORD = 'half-deleted-password-1';
const LATER = 3 * 3600_000; // past any backoff of a first retry

describe('enabling an account whose deletion is being finished', () => {
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub('memory');
    await hub.services.clients.register({ clientId: 'rp', name: 'RP', redirectUris: ['http://rp.test/cb'], userdeleteUrl: 'http://127.0.0.1:9/sso/userdelete' });
  }, 60_000);
  afterAll(() => hub.close());
  afterEach(() => jest.restoreAllMocks());

  async function halfDeleted(username: string): Promise<string> {
    const user = await hub.services.users.create({ username, email: `${username}@example.test`, password: PASSWORD });
    // Cut off after the account was disabled and its sessions ended (a CLI killed, the store failing).
    jest.spyOn(hub.services.users, 'delete').mockRejectedValueOnce(new StoreUnavailableError());
    await expect(hub.services.lifecycle.delete(user.id, { actor: 'cli' })).rejects.toThrow(StoreUnavailableError);
    expect(await hub.services.pendingDeletions.get(user.id)).toMatchObject({ phase: 'deleting' });
    return user.id;
  }

  test('users enable (the lifecycle the CLI calls): refused, still disabled, no sign-in; the resumer deletes it', async () => {
    const id = await halfDeleted('carol');
    const refused = hub.services.lifecycle.enable('carol', { actor: 'cli' });
    await expect(refused).rejects.toThrow(ConflictError);
    await expect(refused).rejects.toThrow(/carol is being deleted/);
    expect((await hub.services.users.findById(id))!.disabled).toBe(true);
    await expect(signInAtPortal(hub, 'carol', PASSWORD)).rejects.toThrow(/sign-in failed/);
    await hub.services.audit.flush();
    expect((await hub.services.audit.search({ event: 'admin.user.enable', user: id }))).toHaveLength(0);

    expect(await hub.deletionResumer.runOnce(Date.now() + LATER)).toMatchObject({ finished: 1 });
    expect(await hub.services.users.findById(id)).toBeUndefined();
  });

  test('the console: the user\'s page offers no Enable; a stale page\'s Enable gets 409 with the reason, nothing changed', async () => {
    const admin = await signedInAdmin(hub);
    const dave = await hub.services.users.create({ username: 'dave', email: 'dave@example.test', password: PASSWORD });
    await hub.services.lifecycle.disable(dave.id, { actor: 'cli' });
    // Opened while the account was only disabled: its Enable form.
    const stale = hiddenFieldsOf(await (await admin.get(`${hub.url}/admin/users/${dave.id}`)).text(), `/admin/users/${dave.id}/enable`);
    jest.spyOn(hub.services.users, 'delete').mockRejectedValueOnce(new StoreUnavailableError());
    await expect(hub.services.lifecycle.delete(dave.id, { actor: 'cli' })).rejects.toThrow(StoreUnavailableError);
    const id = dave.id;
    const page = await (await admin.get(`${hub.url}/admin/users/${id}`)).text();
    expect(page).toContain('data-testid="user-deletion-pending"');
    expect(page).not.toContain(`/admin/users/${id}/enable`);
    const answer = await admin.post(`${hub.url}/admin/users/${id}/enable`, stale);
    expect(answer.status).toBe(409);
    expect(await answer.text()).toContain('dave is being deleted');
    expect((await hub.services.users.findById(id))!.disabled).toBe(true);
    expect(await hub.deletionResumer.runOnce(Date.now() + LATER)).toMatchObject({ finished: 1 });
  });

  test('an account with no deletion pending is enabled as before', async () => {
    const erin = await hub.services.users.create({ username: 'erin', email: 'erin@example.test', password: PASSWORD });
    await hub.services.lifecycle.disable(erin.id, { actor: 'cli' });
    expect((await hub.services.lifecycle.enable('erin', { actor: 'cli' })).disabled).toBeFalsy();
    await signInAtPortal(hub, 'erin', PASSWORD);
  });
});
