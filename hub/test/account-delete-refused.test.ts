/**
 * A self-deletion the hub refuses costs the owner nothing, and undoes only what it did itself:
 * the last enabled admin's refused deletion (409) leaves the two-step code given with it usable
 * (a recovery code is single-use: spent for a refusal, it was gone for nothing), a wrong code
 * still counts against the second step's throttle, and the account, disabled for the moment of
 * the last-admin check, is enabled again only if nobody else (the console, the CLI) disabled it
 * meanwhile. Real Redis.
 */
import { jest } from '@jest/globals';
import { attribute, inputValue, type TestBrowser } from '../src/testing/browser.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { totpCode } from '../src/testing/totp.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { isSignedIn, postAccountForm } from './support.js';

const PASSWORD = 'looking-glass-42';

describe('Account page: a refused self-deletion (redis)', () => {
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub('redis');
  });
  afterAll(() => hub.close());

  // Admins an earlier test left enabled would hide the rule: only the ones of each test count.
  beforeEach(async () => {
    const admins = (await hub.services.users.list()).filter((user) => user.roles.includes('admin') && !user.disabled);
    for (const other of admins) await hub.services.users.update(other.id, { disabled: true });
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  let counter = 0;
  async function newUser(roles: string[] = []): Promise<{ id: string; username: string }> {
    counter += 1;
    const username = `refused${counter}-${Date.now()}`;
    const user = await hub.services.users.create({ username, email: `${username}@example.test`, name: 'Kept', password: PASSWORD, roles });
    return { id: user.id, username };
  }

  async function deletePage(browser: TestBrowser): Promise<string> {
    const page = await browser.get(`${hub.url}/account/delete`);
    expect(page.status).toBe(200);
    return page.text();
  }

  /** Turns two-step sign-in on from the account page: the TOTP secret and the recovery codes. */
  async function enableTwoStep(browser: TestBrowser): Promise<{ secret: string; codes: string[] }> {
    const enrol = await (await browser.get(`${hub.url}/account/two-step`)).text();
    const secret = attribute(enrol, /data-testid="totp-secret">([A-Z2-7]+)</);
    const enabled = await browser.post(`${hub.url}/account/two-step/enable`, { _csrf: inputValue(enrol, '_csrf'), proof: PASSWORD, code: totpCode(secret, -1) });
    const codes = [...(await enabled.text()).matchAll(/<li><code>([0-9a-z]{5}-[0-9a-z]{5})<\/code><\/li>/g)].map((m) => m[1]!);
    expect(codes.length).toBeGreaterThan(0);
    return { secret, codes };
  }

  /** The POST alone: where it sends the browser (a refusal back to the form, a deletion to /account/deleted). */
  async function postDeleteOnly(browser: TestBrowser): Promise<string | null> {
    const html = await deletePage(browser);
    const answer = await browser.post(`${hub.url}/account/delete`, { _csrf: inputValue(html, '_csrf'), current: PASSWORD, confirm: 'yes' });
    await answer.arrayBuffer();
    expect(answer.status).toBe(303);
    return answer.headers.get('location');
  }

  async function postDelete(browser: TestBrowser, code?: string): Promise<{ status: number; error: string | undefined }> {
    const html = await deletePage(browser);
    const answer = await postAccountForm(browser, `${hub.url}/account/delete`, { _csrf: inputValue(html, '_csrf'), current: PASSWORD, ...(code !== undefined ? { code } : {}), confirm: 'yes' });
    const text = await answer.text();
    return { status: answer.status, error: /data-testid="delete-error">([^<]*)</.exec(text)?.[1] };
  }

  test('the last admin\'s refused deletion (409) spends no recovery code: the same code deletes once another admin exists', async () => {
    const admin = await newUser(['admin']);
    const browser = await signInAtPortal(hub, admin.username, PASSWORD);
    const { codes } = await enableTwoStep(browser);
    const before = (await hub.services.twoStep.status(admin.id)).recoveryCodesLeft;

    const refused = await postDelete(browser, codes[0]!);
    expect(refused.status).toBe(409);
    expect(refused.error).toContain('You are the only enabled admin');
    expect((await hub.services.twoStep.status(admin.id)).recoveryCodesLeft).toBe(before);
    expect(await hub.services.users.findById(admin.id)).toMatchObject({ disabled: false });

    await newUser(['admin']);
    const answer = await browser.post(`${hub.url}/account/delete`, { _csrf: inputValue(await deletePage(browser), '_csrf'), current: PASSWORD, code: codes[0]!, confirm: 'yes' });
    await answer.arrayBuffer();
    expect(answer.status).toBe(303);
    expect(await hub.services.users.findById(admin.id)).toBeUndefined();
  });

  test('the last admin\'s refused deletion spends no TOTP code either: the same code works afterwards', async () => {
    const admin = await newUser(['admin']);
    const browser = await signInAtPortal(hub, admin.username, PASSWORD);
    const { secret } = await enableTwoStep(browser);
    const code = totpCode(secret, 0);
    expect((await postDelete(browser, code)).status).toBe(409);
    // The replay guard did not claim the code's time step for a refused deletion.
    expect(await hub.services.twoStep.verify(admin.id, code)).toBe('totp');
  });

  test('a wrong code is still counted: guesses end in 429 with Retry-After, and no admin check is reached', async () => {
    const admin = await newUser(['admin']);
    const browser = await signInAtPortal(hub, admin.username, PASSWORD);
    await enableTwoStep(browser);
    const statuses: number[] = [];
    for (let i = 0; i < hub.config.LOGIN_MAX_FAILURES_PER_ACCOUNT + 2; i += 1) statuses.push((await postDelete(browser, 'aaaaa-bbbbb')).status);
    expect(statuses[0]).toBe(400);
    expect(statuses.at(-1)).toBe(429);
    expect(statuses).not.toContain(409);
    expect(await hub.services.users.findById(admin.id)).toMatchObject({ disabled: false });
  });

  test('an admin who disables the account while its deletion is being refused keeps it disabled (the refusal undoes only its own disable)', async () => {
    const admin = await newUser(['admin']);
    const other = await newUser(['admin']);
    const browser = await signInAtPortal(hub, admin.username, PASSWORD);
    const { users, lifecycle } = hub.services;
    // The deletion checks for another enabled admin twice: before it disables the account and
    // once disabled. Between the two, the CLI disables the other admin (so the second check
    // refuses) and the account itself, as `users disable` does.
    const someAdmin = users.someAdmin.bind(users);
    let checks = 0;
    jest.spyOn(users, 'someAdmin').mockImplementation(async (test) => {
      checks += 1;
      if (checks === 2) {
        await lifecycle.disable(other.id, { actor: 'cli' });
        await lifecycle.disable(admin.id, { actor: 'cli' });
      }
      return someAdmin(test);
    });
    // Refused (the disable ended the session, so the page after it is the sign-in page).
    expect(await postDeleteOnly(browser)).toBe('/account/delete');
    expect(checks).toBe(2);
    const kept = await users.findById(admin.id);
    expect(kept).toMatchObject({ disabled: true });
    expect(kept?.disabledAt).toEqual(expect.any(Number));
    expect(await isSignedIn(browser, hub.url)).toBe(false);
  });

  test('an admin who disables and enables the account again meanwhile: it stays enabled, and the refusal writes nothing over it', async () => {
    const admin = await newUser(['admin']);
    const other = await newUser(['admin']);
    const browser = await signInAtPortal(hub, admin.username, PASSWORD);
    const { users, lifecycle } = hub.services;
    const someAdmin = users.someAdmin.bind(users);
    let checks = 0;
    let between: string | undefined;
    jest.spyOn(users, 'someAdmin').mockImplementation(async (test) => {
      checks += 1;
      if (checks === 2) {
        await lifecycle.disable(other.id, { actor: 'cli' });
        await lifecycle.disable(admin.id, { actor: 'cli' });
        await lifecycle.enable(admin.id, { actor: 'cli' });
        between = JSON.stringify(await users.findById(admin.id));
      }
      return someAdmin(test);
    });
    expect(await postDeleteOnly(browser)).toBe('/account/delete');
    // Record as the admin left it: the refusal's undo found nothing of its own to undo.
    expect(JSON.stringify(await users.findById(admin.id))).toBe(between);
  });
});
