/**
 * A sign-up cut off by the store at any one of its writes, then the same form sent again from the
 * same browser (README "Store down or stalled": a request that answered 503 must be safe to
 * retry). The person is shown the 503 page, goes back and sends the form again once the store is
 * back: the sign-up must then go through ("check your inbox"), with one account of that username
 * and a verification link for it. Before, the browser's portal session learnt the new account's
 * id only once the sign-up answered, so a sign-up whose account was written and whose answer was
 * lost (a write after the record failed, or the record landed with its answer lost) was not this
 * browser's own to replace: the retry was told "This username is taken", for
 * HUB_UNVERIFIED_ACCOUNT_DAYS.
 *
 * Each write of the POST is failed in turn (`fail`), then made to land with its answer lost
 * (`stall`). A create cut off between its username claim and its record holds the name while its
 * `user-creating:{id}` marker lives (60 s, hub/test/user-create-fault-sweep.test.ts): that wait is
 * skipped by deleting the marker. One MemoryStore behind faultyStore, a real SMTP catcher.
 */
import { faultyStore } from '../src/testing/faulty-store.js';
import { MemoryStore } from '../src/store/memory.js';
import { TestBrowser, inputValue } from '../src/testing/browser.js';
import { startSmtpCatcher, type SmtpCatcher } from '../src/testing/smtp-catcher.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { withNthWriteFaulted } from './nth-write-fault.js';

const PASSWORD = 'correct tulip orbit cactus';

describe('Sign-up: a store fault at each of its writes, then the same form sent again from the same browser', () => {
  const faulty = faultyStore(new MemoryStore());
  let hub: RunningHub;
  let catcher: SmtpCatcher;

  beforeAll(async () => {
    catcher = await startSmtpCatcher();
    hub = await startTestHub('memory', { SMTP_URL: catcher.url, HUB_SIGNUP: 'open', SIGNUP_MAX_PER_IP: '10000', SIGNUP_MAILS_PER_ADDRESS: '100' }, faulty.store);
  });
  afterAll(async () => {
    await hub.close();
    await catcher.close();
  });

  let counter = 0;
  function person() {
    counter += 1;
    return { username: `signup${counter}`, email: `signup${counter}@example.test`, name: `Sign Up ${counter}` };
  }

  /** The form fetched (not faulted), then sent as `send` says. */
  async function signUp(browser: TestBrowser, fields: Record<string, string>, send: (post: () => Promise<Response>) => Promise<unknown> = (post) => post()) {
    const html = await (await browser.get(`${hub.url}/signup`)).text();
    let answer: Response | undefined;
    await send(async () => (answer = await browser.post(`${hub.url}/signup`, { _csrf: inputValue(html, '_csrf'), password: PASSWORD, confirm: PASSWORD, ...fields })));
    return answer;
  }

  /** What the form said, for the problem list: its status and the error shown, if any. */
  async function said(answer: Response | undefined): Promise<string> {
    if (!answer) return 'no answer';
    const body = await answer.text();
    const error = /role="alert"[^>]*>\s*([^<]+)/.exec(body)?.[1]?.trim();
    return `${answer.status}${error ? ` "${error}"` : ''}`;
  }

  async function problemOf(fields: ReturnType<typeof person>, answer: Response | undefined): Promise<string | undefined> {
    if (answer?.status !== 303 || answer.headers.get('location') !== '/signup/sent') return `the retry answered ${await said(answer)}`;
    const user = await hub.services.users.findByUsername(fields.username);
    if (!user || user.email !== fields.email || user.emailVerified !== false) return 'no unverified account of that name and address';
    const links = catcher.to(fields.email).flatMap((mail) => mail.links).filter((link) => link.includes('/signup/verify?token='));
    const live = await Promise.all(links.map((link) => hub.services.signup.checkLink(new URL(link).searchParams.get('token')!)));
    if (!live.some(Boolean)) return 'no live verification link for it';
    return undefined;
  }

  test.each(['fail', 'stall'] as const)('each write %s in turn: the form sent again signs up', async (kind) => {
    const healthy = person();
    let writes = 0;
    const first = await signUp(new TestBrowser(), healthy, async (post) => ({ writes } = await withNthWriteFaulted(faulty, undefined, kind, post)));
    await catcher.waitFor(healthy.email);
    expect(await problemOf(healthy, first)).toBeUndefined();
    expect(writes).toBeGreaterThan(3);

    const problems: string[] = [];
    for (let nth = 1; nth <= writes; nth += 1) {
      const fields = person();
      const browser = new TestBrowser();
      const faulted = await signUp(browser, fields, (post) => withNthWriteFaulted(faulty, nth, kind, post));
      if (faulted?.status !== 503) {
        // Absorbed (an audit write, the mail's): fine if the sign-up is whole.
        const problem = faulted?.status === 303 ? await catcher.waitFor(fields.email, { timeoutMs: 3000 }).then(() => problemOf(fields, faulted), () => 'no mail') : `answered ${await said(faulted)}`;
        if (problem) problems.push(`write ${nth} ${kind}: ${problem}`);
        continue;
      }
      // What a create still at work would hold: the marker, until it expires (60 s).
      const holder = await hub.store.get(hub.services.keys.userByName(fields.username));
      if (holder) await hub.store.del(hub.services.keys.userCreating(holder));
      const again = await signUp(browser, fields);
      if (again?.status === 303) await catcher.waitFor(fields.email, { timeoutMs: 3000 }).catch(() => undefined);
      const problem = await problemOf(fields, again);
      if (problem) problems.push(`write ${nth} ${kind}: ${problem}`);
    }
    expect(problems).toEqual([]);
  }, 240_000);
});
