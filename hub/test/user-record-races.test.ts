/**
 * The user record is written whole (read, change, write). Two writes at once used to lose one of
 * them, and a write racing a delete brought the record back. The one that mattered most: a
 * sign-in whose imported (md5) password was being rehashed while an admin reset the password
 * wrote the OLD password's new hash over the reset, so the password the admin had replaced
 * worked again. Now every write of the record is a compare-and-set from what is stored, and a
 * rehash replaces only the hash the password was checked against. A UCenter application's key
 * rotation is a compare-and-set too (it brought a removed application back). On Redis (node-redis sends
 * the two requests' reads before either write, as concurrent requests do) and the embedded store.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { NotFoundError } from '../src/errors.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { legacyHashFrom } from '../src/users/legacy-hash.js';

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

describe.each(['redis', 'memory'] as const)('records written whole, at the same time (%s store)', (kind) => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub(kind);
  });
  afterAll(() => hub.close());

  it('two changes at once both land (an admin disables the user while their name changes)', async () => {
    const user = await hub.services.users.create({ username: `both-${kind}`, email: `both-${kind}@example.test`, password: 'both-password-1' });
    await Promise.all([hub.services.users.update(user.id, { disabled: true }), hub.services.users.update(user.id, { name: 'New Name' })]);
    const stored = (await hub.services.users.findById(user.id))!;
    expect({ disabled: stored.disabled, name: stored.name }).toEqual({ disabled: true, name: 'New Name' });
  });

  it('a change racing a delete does not bring the deleted user back', async () => {
    const user = await hub.services.users.create({ username: `gone-${kind}`, email: `gone-${kind}@example.test`, password: 'gone-password-1' });
    const [deleted, changed] = await Promise.allSettled([hub.services.users.delete(user.id), hub.services.users.update(user.id, { name: 'Zombie' })]);
    expect(deleted.status).toBe('fulfilled');
    // Either order is fine (the change landed first, or it found the user gone); a record after the delete is not.
    if (changed.status === 'rejected') expect(changed.reason).toBeInstanceOf(NotFoundError);
    expect(await hub.services.users.findById(user.id)).toBeUndefined();
  });

  it('a rehash at sign-in after an admin\'s password reset keeps the reset: the old password stays refused', async () => {
    const imported = await hub.services.users.importUser({ username: `md5-${kind}`, email: `md5-${kind}@example.test`, passwordHash: legacyHashFrom(md5(md5('leaked-forum-pw') + 's4lt'), 's4lt')!, uid: kind === 'redis' ? 7101 : 7102 });
    // The sign-in checked the password against this hash...
    const checked = (await hub.services.users.findById(imported.id))!.passwordHash;
    expect(await hub.services.hasher.verify(checked, 'leaked-forum-pw')).toBe(true);
    // ...the admin reset the password while the new hash was being made...
    await hub.services.users.setPassword(imported.id, 'admin-chosen-pw-1');
    // ...and the rehash arrives.
    await hub.services.users.rehash(imported.id, 'leaked-forum-pw', checked);
    const stored = (await hub.services.users.findById(imported.id))!;
    expect(await hub.services.hasher.verify(stored.passwordHash, 'leaked-forum-pw')).toBe(false);
    expect(await hub.services.hasher.verify(stored.passwordHash, 'admin-chosen-pw-1')).toBe(true);
  });

  it('a rehash with nothing in between replaces the imported hash', async () => {
    const imported = await hub.services.users.importUser({ username: `md5b-${kind}`, email: `md5b-${kind}@example.test`, passwordHash: legacyHashFrom(md5(md5('forum-pw-2') + 'pepr'), 'pepr')!, uid: kind === 'redis' ? 7103 : 7104 });
    await hub.services.users.rehash(imported.id, 'forum-pw-2', (await hub.services.users.findById(imported.id))!.passwordHash);
    const stored = (await hub.services.users.findById(imported.id))!;
    expect(hub.services.hasher.needsRehash(stored.passwordHash)).toBe(false);
    expect(await hub.services.hasher.verify(stored.passwordHash, 'forum-pw-2')).toBe(true);
    expect(await hub.services.users.legacyHashCount()).toBe(0);
  });

  it('a UCenter key rotation racing the application\'s removal does not bring the application back', async () => {
    const apps = hub.services.ucenter.apps;
    const app = await apps.register({ name: `Forum ${kind}`, url: 'http://forum.test' });
    await Promise.allSettled([apps.remove(app.appId), apps.rotateKey(app.appId)]);
    expect(await apps.find(app.appId)).toBeUndefined();
  });
});
