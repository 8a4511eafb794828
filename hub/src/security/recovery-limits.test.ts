import { RecoveryLimits } from './recovery-limits.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('RecoveryLimits: mails per account', () => {
  test('a reset mail refused always leaves a live link: the reset window is at most a link\'s lifetime', async () => {
    // One-hour windows, two-second links: an attacker's three requests used up the window.
    const limits = new RecoveryLimits({ requestsPerIp: 100, mailsPerAccount: 3, windowSeconds: 3600, resetLinkSeconds: 2, keyPrefix: 'test' });
    for (let i = 0; i < 3; i += 1) expect(await limits.mail('owner', 'reset')).toBe(true);
    // Refused while the three links just sent still work ...
    expect(await limits.mail('owner', 'reset')).toBe(false);
    await sleep(2_100);
    // ... and once they have expired, the owner gets a new one (before: not for the rest of the hour).
    expect(await limits.mail('owner', 'reset')).toBe(true);
  });

  test('e-mail change mails keep the full window, counted apart from resets', async () => {
    const limits = new RecoveryLimits({ requestsPerIp: 100, mailsPerAccount: 1, windowSeconds: 3600, resetLinkSeconds: 1, keyPrefix: 'test' });
    expect(await limits.mail('owner', 'reset')).toBe(true);
    expect(await limits.mail('owner', 'email-change')).toBe(true);
    expect(await limits.mail('owner', 'email-change')).toBe(false);
    await sleep(1_100);
    expect(await limits.mail('owner', 'email-change')).toBe(false);
    expect(await limits.mail('owner', 'reset')).toBe(true);
  });
});
