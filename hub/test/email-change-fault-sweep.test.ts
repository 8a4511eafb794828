/**
 * Confirming an e-mail change cut off by the store at any one of its writes (README "Store down
 * or stalled": a request that answered 503 must be safe to retry). The holder of the link to the
 * new address is shown the 503 page and sends the form again once the store is back: the address
 * must then be the new one (verified, the old one let go), and the OLD address must have been
 * sent its link that gives it back, as the normal path sends it (the owner's way back after a
 * takeover), and the link used up after that. Before the fix the link was used up first
 * (GETDEL): a fault at any later write spent it (the owner had to ask again), and a change that
 * landed with its answer lost never sent the old address its undo link.
 *
 * Each write is failed in turn (`fail`), then made to land with its answer lost (`stall`). One
 * MemoryStore behind faultyStore (the writes are Redis's), a real SMTP catcher.
 */
import { faultyStore } from '../src/testing/faulty-store.js';
import { MemoryStore } from '../src/store/memory.js';
import { startSmtpCatcher, type SmtpCatcher } from '../src/testing/smtp-catcher.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { AccountTokens } from '../src/users/account-tokens.js';
import { passwordStamp } from '../src/users/password-stamp.js';
import { InvalidEmailLinkError } from '../src/users/email-change.js';
import { withNthWriteFaulted } from './nth-write-fault.js';

const PASSWORD = 'looking-glass-42';

describe('E-mail change confirmation: a store fault at each of its writes, then the same form sent again', () => {
  const faulty = faultyStore(new MemoryStore());
  let hub: RunningHub;
  let catcher: SmtpCatcher;
  let tokens: AccountTokens;

  beforeAll(async () => {
    catcher = await startSmtpCatcher();
    hub = await startTestHub('memory', { SMTP_URL: catcher.url }, faulty.store);
    tokens = new AccountTokens(hub.store, hub.services.keys);
  });
  afterAll(async () => {
    await hub.services.emailChange.settled();
    await hub.close();
    await catcher.close();
  });

  let counter = 0;
  /**
   * An account with a verified address and a confirmation link to a new one. `recent`: that
   * address was itself set by a change a minute ago, so it is owed the notice without an undo link.
   */
  async function withLink(recent = false) {
    counter += 1;
    const username = `change${counter}`;
    const from = `${username}@old.example.test`;
    const to = `${username}@new.example.test`;
    const created = await hub.services.users.create({ username, email: from, password: PASSWORD, roles: [] });
    await hub.services.users.changeEmail(created.id, from, { verified: true, ...(recent ? { changedAt: Date.now() - 60_000 } : {}) });
    const user = (await hub.services.users.findById(created.id))!;
    const token = await tokens.issue('email-change', { userId: user.id, from, to, stamp: passwordStamp(user), locale: 'en' }, 3600);
    return { id: user.id, from, to, token, recent };
  }

  function confirm(token: string) {
    return hub.services.emailChange.confirm(token, '127.0.0.1', 'en');
  }

  const undoLinks = (from: string): string[] =>
    catcher
      .to(from)
      .flatMap((mail) => mail.links)
      .filter((link) => link.startsWith(`${hub.url}/account/email/undo?token=`));

  async function expectDone({ id, from, to, token, recent }: Awaited<ReturnType<typeof withLink>>): Promise<void> {
    const user = (await hub.services.users.findById(id))!;
    expect(user.email).toBe(to);
    expect(user.emailVerified).toBe(true);
    expect((await hub.services.users.findByLogin(to))?.id).toBe(id);
    // The old address is let go: it signs in no more, and is free for anyone.
    expect(await hub.services.users.findByLogin(from)).toBeUndefined();
    // Used up once the change went through.
    await expect(confirm(token)).rejects.toBeInstanceOf(InvalidEmailLinkError);
    // The old address got its way back, a link that works and gives it back.
    await hub.services.emailChange.settled();
    const links = undoLinks(from);
    if (recent) {
      // The rule on who gets a link holds on the retry too: the notice, no link.
      expect(catcher.to(from).length).toBeGreaterThan(0);
      expect(links).toEqual([]);
      return;
    }
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      const grant = await tokens.peek<{ userId: string; from: string; to: string }>('email-undo', new URL(link).searchParams.get('token')!);
      expect(grant).toMatchObject({ userId: id, from, to });
    }
  }

  test('two confirmations of one link at once: one changes the address, the other is told the link is used', async () => {
    const started = await withLink();
    const outcomes = await Promise.allSettled([confirm(started.token), confirm(started.token)]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    expect(outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected')?.reason).toBeInstanceOf(InvalidEmailLinkError);
    await expectDone(started);
    expect(undoLinks(started.from)).toHaveLength(1);
  });

  test.each([
    ['fail', false],
    ['stall', false],
    ['stall', true],
  ] as const)('each write %s in turn (the old address set by a change just now: %s): the retry changes the address and sends the old one what the normal path sends', async (kind, recent) => {
    const healthy = await withLink(recent);
    const { writes, error } = await withNthWriteFaulted(faulty, undefined, kind, () => confirm(healthy.token));
    expect(error).toBeUndefined();
    await expectDone(healthy);
    expect(undoLinks(healthy.from)).toHaveLength(recent ? 0 : 1);
    expect(writes).toBeGreaterThan(2);

    const problems: string[] = [];
    for (let nth = 1; nth <= writes; nth += 1) {
      const started = await withLink(recent);
      const faulted = await withNthWriteFaulted(faulty, nth, kind, () => confirm(started.token));
      try {
        if (faulted.error === undefined) {
          // Absorbed (an audit write): fine if the change is whole.
          await expectDone(started);
          continue;
        }
        // Refused as used: only right when the fault hit the write that used the link up, which
        // landed with its answer lost (the last one): the job must be whole already.
        await confirm(started.token).catch((retryError: unknown) => {
          if (!(retryError instanceof InvalidEmailLinkError)) throw retryError;
        });
        await expectDone(started);
      } catch (retryError) {
        problems.push(`write ${nth} ${kind}: ${retryError instanceof Error ? `${retryError.name} ${retryError.message.split('\n')[0]}` : String(retryError)}`);
      }
    }
    expect(problems).toEqual([]);
  }, 180_000);
});
