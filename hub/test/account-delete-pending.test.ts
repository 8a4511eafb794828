/**
 * A deletion cut off part-way is finished by the hub, with no one acting: recorded before anything
 * of the account is touched (users/pending-deletions.ts), it stays listed (console, CLI) while it
 * is not finished, and the hub's resumer (users/deletion-resumer.ts) finishes it: the record, the
 * sets and the two-step enrolment go, the audit entry and the owner's mail are written once, and
 * subsites get their notices once. Before, the store failing after the account was disabled and
 * its sessions ended left it disabled and half-deleted until an admin noticed. An owner's deletion
 * whose request stopped before it was decided (its last-admin check) is rolled back instead. Real
 * Redis, real SMTP.
 */
import { jest } from '@jest/globals';
import { runCli } from '../src/cli.js';
import { inputValue, type TestBrowser } from '../src/testing/browser.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { TEST_REDIS_URL } from '../src/testing/test-hub.js';
import { StoreUnavailableError } from '../src/store/store.js';
import { DELETION_LEASE_SECONDS } from '../src/users/pending-deletions.js';
import { hubWithMailbox, isSignedIn } from './support.js';

const PASSWORD = 'looking-glass-42';
const LATER = 3 * 3600_000; // past any backoff of a first retry

describe('Account deletion cut off part-way: finished later by the hub (redis, real SMTP)', () => {
  const mailbox = hubWithMailbox();

  beforeAll(async () => {
    await mailbox.hub.services.clients.register({ clientId: 'rp', name: 'RP', redirectUris: ['http://rp.test/cb'], userdeleteUrl: 'http://127.0.0.1:9/sso/userdelete' });
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  let counter = 0;
  async function newUser(roles: string[] = []): Promise<{ id: string; username: string; email: string }> {
    counter += 1;
    const username = `pending${counter}-${Date.now()}`;
    const email = `${username}@example.test`;
    const user = await mailbox.hub.services.users.create({ username, email, name: 'Half Deleted', password: PASSWORD, roles });
    return { id: user.id, username, email };
  }

  async function postDelete(browser: TestBrowser): Promise<Response> {
    const { hub } = mailbox;
    const html = await (await browser.get(`${hub.url}/account/delete`)).text();
    const answer = await browser.post(`${hub.url}/account/delete`, { _csrf: inputValue(html, '_csrf'), current: PASSWORD, confirm: 'yes' });
    await answer.arrayBuffer();
    return answer;
  }

  async function cli(args: string[]): Promise<string[]> {
    const printed: string[] = [];
    const code = await runCli(args, { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: mailbox.hub.config.KEY_PREFIX, LOG_LEVEL: 'silent' }, (line) => printed.push(line), () => undefined);
    expect(code).toBe(0);
    return printed;
  }

  test('the owner\'s deletion, the store failing after the account was disabled and its sessions ended: listed as pending, then finished by the resumer, once', async () => {
    const { hub, catcher } = mailbox;
    const { id, username, email } = await newUser();
    const browser = await signInAtPortal(hub, username, PASSWORD);
    const since = Date.now();
    // The store fails as the record is about to be removed (the forced logout was queued already).
    jest.spyOn(hub.services.users, 'delete').mockRejectedValueOnce(new StoreUnavailableError());
    const answer = await postDelete(browser);
    expect(answer.status).toBe(503);

    // Half-way: disabled, signed out, the record still there; recorded as a pending deletion.
    expect(await hub.services.users.findById(id)).toMatchObject({ disabled: true });
    expect(await isSignedIn(browser, hub.url)).toBe(false);
    const [pending] = (await hub.services.pendingDeletions.list()).filter((entry) => entry.userId === id);
    expect(pending).toMatchObject({ username, phase: 'deleting', attempts: 1, event: 'account.deleted' });
    expect(pending!.loggedOut).toBeDefined();
    expect(pending!.lastError).toContain('StoreUnavailableError');
    // The CLI shows it.
    expect((await cli(['users', 'pending-deletions'])).join('\n')).toContain(`${id}  ${username}  deleting`);

    // Not due yet: the resumer leaves it to its backoff.
    expect((await hub.deletionResumer.runOnce(Date.now())).finished).toBe(0);
    const pass = await hub.deletionResumer.runOnce(Date.now() + LATER);
    expect(pass).toMatchObject({ finished: 1, failed: 0 });

    expect(await hub.services.users.findById(id)).toBeUndefined();
    expect(await hub.services.users.findByLogin(username)).toBeUndefined();
    expect((await hub.services.users.list()).some((user) => user.id === id)).toBe(false);
    expect(await hub.services.pendingDeletions.list()).toEqual([]);
    // Audited once, as the owner's; the subsite's userdelete queued once (not again by the retry).
    await hub.services.audit.flush();
    expect(await hub.services.audit.search({ event: 'account.deleted', user: id })).toHaveLength(1);
    const userdeletes = (await hub.services.deliveries.list('pending')).filter((item) => item.sub === id && item.kind === 'userdelete');
    expect(userdeletes).toHaveLength(1);
    // The owner is told once it is done.
    const mail = await catcher.waitFor(email, { since });
    expect(mail.text).toContain(username);
    // Nothing left to resume.
    expect(await hub.deletionResumer.runOnce(Date.now() + 2 * LATER)).toMatchObject({ finished: 0, failed: 0 });
  });

  test('the console\'s delete, cut off in the forced logout: retried until it goes through, then finished', async () => {
    const { hub } = mailbox;
    const { id, username } = await newUser();
    jest.spyOn(hub.services.deliveries, 'enqueue').mockRejectedValueOnce(new StoreUnavailableError());
    await expect(hub.services.lifecycle.delete(id, { actor: 'cli' })).rejects.toThrow(StoreUnavailableError);
    expect(await hub.services.users.findById(id)).toMatchObject({ disabled: true });
    const [pending] = await hub.services.pendingDeletions.list();
    expect(pending).toMatchObject({ userId: id, phase: 'deleting', event: 'admin.user.delete', attempts: 1 });
    expect(pending!.loggedOut).toBeUndefined();
    // The console lists it, and marks the account's row.
    const console = await newUser(['admin']);
    const browser = await signInAtPortal(hub, console.username, PASSWORD, undefined, '/admin/users');
    const users = await browser.get(`${hub.url}/admin/users`);
    const html = await users.text();
    expect(users.status).toBe(200);
    expect(/<tr data-testid="pending-deletion">\s*<td>([^<]*)</.exec(html)?.[1]).toBe(username);
    expect(html).toContain('data-testid="user-deletion-pending">deletion pending<');

    // Failing again: counted, due later again, still listed.
    jest.spyOn(hub.services.users, 'delete').mockRejectedValueOnce(new StoreUnavailableError());
    expect(await hub.deletionResumer.runOnce(Date.now() + LATER)).toMatchObject({ finished: 0, failed: 1 });
    expect((await hub.services.pendingDeletions.list())[0]).toMatchObject({ userId: id, attempts: 2 });

    expect(await hub.deletionResumer.runOnce(Date.now() + 2 * LATER)).toMatchObject({ finished: 1 });
    expect(await hub.services.users.findById(id)).toBeUndefined();
    await hub.services.audit.flush();
    const audit = await hub.services.audit.search({ event: 'admin.user.delete', user: id });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'cli', detail: expect.objectContaining({ username }) });
  });

  test('cut off between the record and the set of users: the resumer removes what is left (nothing half-written)', async () => {
    const { hub } = mailbox;
    const { id } = await newUser();
    const count = await hub.services.users.count();
    const setRemove = hub.services.store.setRemove.bind(hub.services.store);
    jest.spyOn(hub.services.store, 'setRemove').mockImplementationOnce(async (key, member) => {
      if (member === id) throw new StoreUnavailableError();
      return setRemove(key, member);
    });
    await expect(hub.services.lifecycle.delete(id, { actor: 'cli' })).rejects.toThrow(StoreUnavailableError);
    expect(await hub.services.users.findById(id)).toBeUndefined();
    expect(await hub.services.users.count()).toBe(count); // the id is still in the set
    expect(await hub.deletionResumer.runOnce(Date.now() + LATER)).toMatchObject({ finished: 1 });
    expect(await hub.services.users.count()).toBe(count - 1);
    expect(await hub.services.pendingDeletions.list()).toEqual([]);
  });

  test('an owner\'s deletion whose request stopped in its last-admin check is rolled back: the account is enabled again, not deleted', async () => {
    const { hub } = mailbox;
    const admin = await newUser(['admin']);
    await newUser(['admin']);
    const user = (await hub.services.users.findById(admin.id))!;
    // As deleteOwn does up to its check, then the request stops (the process died): the lease runs out.
    const begun = await hub.services.lifecycle.removal.beginDeletion(user, { actor: admin.id }, 'account.deleted', { phase: 'checking', noticeLocale: 'en' });
    expect(await hub.services.users.holdForDeletion(admin.id, begun.pending.hold!)).toBe(true);
    expect((await hub.services.pendingDeletions.list()).map((entry) => entry.phase)).toEqual(['checking']);
    // Not while its lease holds: the request may still be working on it.
    expect(await hub.deletionResumer.runOnce(Date.now() + LATER)).toMatchObject({ rolledBack: 0 });
    await hub.services.store.del(hub.services.keys.accountDeletionLease(admin.id));
    expect(await hub.deletionResumer.runOnce(Date.now() + DELETION_LEASE_SECONDS * 1000 + 1)).toMatchObject({ rolledBack: 1, finished: 0 });
    const kept = await hub.services.users.findById(admin.id);
    expect(kept).toMatchObject({ disabled: false });
    expect(kept).not.toHaveProperty('deletionHold');
    expect(await hub.services.pendingDeletions.list()).toEqual([]);
  });
});
