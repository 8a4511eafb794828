/**
 * One password, however it is typed: "Crème brûlée" with é as one code point (NFC) or as e + ◌́
 * (NFD, as some keyboards and systems send it), and an IME's full-width ｐａｓｓ１２３, are the
 * same password (NIST SP 800-63B §5.1.1.2: NFKC). A browser review signed up in NFC and was told
 * "username or password is incorrect" when signing in with the same text in NFD. Hashes made
 * before keep working as typed then, and one of a password that NFKC changes is rehashed at its
 * next sign-in.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import argon2 from 'argon2';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { signInAtPortal } from '../src/testing/flows.js';

const NFC = 'Crème brûlée recipe night'.normalize('NFC');
const NFD = NFC.normalize('NFD');

let hub: RunningHub;
beforeAll(async () => {
  hub = await startTestHub('memory');
});
afterAll(() => hub.close());

const signsIn = (login: string, password: string) => signInAtPortal(hub, login, password).then(() => true, () => false);

it('an account whose password was chosen in NFC signs in with it typed in NFD, and the other way round', async () => {
  expect(NFD).not.toBe(NFC);
  await hub.services.users.create({ username: 'creme', email: 'creme@example.test', password: NFC });
  await hub.services.users.create({ username: 'brulee', email: 'brulee@example.test', password: NFD });
  expect(await signsIn('creme', NFD)).toBe(true);
  expect(await signsIn('creme', NFC)).toBe(true);
  expect(await signsIn('brulee', NFC)).toBe(true);
  expect(await signsIn('creme', `${NFC}!`)).toBe(false);
});

it('full-width letters and digits typed through an IME are the password they stand for', async () => {
  await hub.services.users.create({ username: 'fullwidth', email: 'fullwidth@example.test', password: 'ｐａｓｓｗｏｒｄ-ｆｏｒ-２０２６' });
  expect(await signsIn('fullwidth', 'password-for-2026')).toBe(true);
  expect(await signsIn('fullwidth', 'ｐａｓｓｗｏｒｄ-ｆｏｒ-２０２６')).toBe(true);
});

it('a hash made before (of the password as typed, in NFD) still signs in as typed, and is then rehashed so NFC works too', async () => {
  const user = await hub.services.users.create({ username: 'older', email: 'older@example.test', password: 'placeholder-password-1' });
  const older = await argon2.hash(NFD, { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
  await hub.services.users.update(user.id, { passwordHash: older });
  expect(await signsIn('older', NFC)).toBe(false); // as before: the older hash is of the NFD text
  expect(await signsIn('older', NFD)).toBe(true);
  const rehashed = (await hub.services.users.findById(user.id))!.passwordHash!;
  expect(rehashed).not.toBe(older);
  expect(await signsIn('older', NFC)).toBe(true);
  expect(await signsIn('older', NFD)).toBe(true);
});

it('a hash made before of an ASCII password is kept as it is at sign-in (no second argon2id for every account after an upgrade)', async () => {
  const user = await hub.services.users.create({ username: 'ascii', email: 'ascii@example.test', password: 'placeholder-password-2' });
  const older = await argon2.hash('plain-ascii-password', { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
  await hub.services.users.update(user.id, { passwordHash: older });
  expect(await signsIn('ascii', 'plain-ascii-password')).toBe(true);
  expect((await hub.services.users.findById(user.id))!.passwordHash).toBe(older);
});
