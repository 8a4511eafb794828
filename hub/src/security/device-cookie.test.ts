import { DEVICE_COOKIE_PATH, DEVICE_COOKIE_TTL, DeviceCookies } from './device-cookie.js';

const KEY = 'k'.repeat(32);
const OTHER_KEY = 'o'.repeat(32);
const ALICE = '7d0b8c1e-0000-4000-8000-00000000a11c';
const BOB = '7d0b8c1e-0000-4000-8000-000000000b0b';

const GEN = 'generation-1';

const jar = (...cookies: { name: string; value: string }[]) => Object.fromEntries(cookies.map(({ name, value }) => [name, value]));

describe('OWASP device cookies', () => {
  const devices = new DeviceCookies([KEY], false);

  test('a cookie issued at sign-in proves the device for that account', () => {
    const issued = devices.issue(ALICE, GEN);
    const device = devices.verify(ALICE, GEN, jar(issued));
    expect(device).toBeTruthy();
    expect(issued.value.startsWith(`${device}.`)).toBe(true);
    // A new sign-in, a new device id.
    expect(devices.verify(ALICE, GEN, jar(devices.issue(ALICE, GEN)))).not.toBe(device);
  });

  test("a cookie from before the account's sign-in generation changed (a password reset or change, two-step enrolment, sign out everywhere) proves nothing", () => {
    const before = devices.issue(ALICE, GEN);
    expect(devices.verify(ALICE, GEN, jar(before))).toBeTruthy();
    expect(devices.verify(ALICE, 'generation-2', jar(before))).toBeUndefined();
    expect(devices.verify(ALICE, '', jar(before))).toBeUndefined();
    expect(devices.verify(ALICE, 'generation-2', jar(devices.issue(ALICE, 'generation-2')))).toBeTruthy();
  });

  test('HttpOnly, SameSite=Strict, long-lived, sent only where passwords are checked, Secure on https', () => {
    const { options } = devices.issue(ALICE, GEN);
    expect(options).toMatchObject({ httpOnly: true, sameSite: 'strict', path: DEVICE_COOKIE_PATH, maxAge: DEVICE_COOKIE_TTL * 1000, secure: false });
    expect(DEVICE_COOKIE_TTL).toBeGreaterThanOrEqual(180 * 86_400);
    expect(new DeviceCookies([KEY], true).issue(ALICE, GEN).options.secure).toBe(true);
  });

  test('the name tells no user id, and differs per account', () => {
    const name = devices.issue(ALICE, GEN).name;
    expect(name).not.toContain(ALICE);
    expect(name).not.toBe(devices.issue(BOB, GEN).name);
  });

  test('cannot be moved to another account, under either name', () => {
    const alice = devices.issue(ALICE, GEN);
    expect(devices.verify(BOB, GEN, jar(alice))).toBeUndefined();
    expect(devices.verify(BOB, GEN, jar({ name: devices.issue(BOB, GEN).name, value: alice.value }))).toBeUndefined();
  });

  test('cannot be forged or altered', () => {
    const { name, value } = devices.issue(ALICE, GEN);
    const [nonce, mac] = value.split('.') as [string, string];
    const flipped = `${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`;
    for (const forged of [`${nonce}.${flipped}`, `other-nonce.${mac}`, nonce, `${value}.extra`, '', 'x'.repeat(500), `${nonce}.`]) {
      expect(devices.verify(ALICE, GEN, { [name]: forged })).toBeUndefined();
    }
    // Signed with a key the hub does not have.
    expect(devices.verify(ALICE, GEN, jar(new DeviceCookies([OTHER_KEY], false).issue(ALICE, GEN)))).toBeUndefined();
  });

  test('still valid after the cookie keys rotate (the old key still verifies), not after it is dropped', () => {
    const before = devices.issue(ALICE, GEN);
    expect(new DeviceCookies([OTHER_KEY, KEY], false).verify(ALICE, GEN, jar(before))).toBeTruthy();
    expect(new DeviceCookies([OTHER_KEY], false).verify(ALICE, GEN, jar(before))).toBeUndefined();
  });

  test('names are remembered per key and account (one HMAC fewer per sign-in), and stay right past the memory\'s size', () => {
    const rotated = new DeviceCookies([OTHER_KEY, KEY], false);
    const aliceBefore = devices.issue(ALICE, GEN);
    // Many accounts in between (the memory starts over past 1,000 names).
    for (let i = 0; i < 2_500; i += 1) rotated.issue(`account-${i}`, GEN);
    expect(rotated.verify(ALICE, GEN, jar(aliceBefore))).toBeTruthy();
    expect(rotated.issue(ALICE, GEN).name).toBe(new DeviceCookies([OTHER_KEY], false).issue(ALICE, GEN).name);
    expect(rotated.issue(ALICE, GEN).name).not.toBe(aliceBefore.name);
    // A copy of the keys: changing the array given does not change what the instance signs with.
    const keys = [KEY];
    const own = new DeviceCookies(keys, false);
    const name = own.issue(BOB, GEN).name;
    keys[0] = OTHER_KEY;
    expect(own.issue(BOB, GEN).name).toBe(name);
    expect(own.verify(BOB, GEN, jar(devices.issue(BOB, GEN)))).toBeTruthy();
  });
});
