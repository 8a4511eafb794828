import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { startSmtpCatcher, type CaughtMail } from '../hub/src/testing/smtp-catcher.js';
import { MAILBOX_DIR } from './ports.js';

/**
 * The e2e run's mail: a real SMTP server (smtp-server, in the global setup's process) on a
 * fixed port that the demo hub sends to (`SMTP_URL`), writing each message it receives as a
 * JSON file that the tests (in the worker processes) read.
 */
export async function startMailbox(port: number): Promise<{ close(): Promise<void> }> {
  mkdirSync(MAILBOX_DIR, { recursive: true });
  let count = 0;
  const catcher = await startSmtpCatcher({
    port,
    onMail: (mail) => {
      count += 1;
      writeFileSync(`${MAILBOX_DIR}${Date.now()}-${count}.json`, JSON.stringify(mail));
    },
  });
  return {
    async close() {
      await catcher.close();
      rmSync(MAILBOX_DIR, { recursive: true, force: true });
    },
  };
}

/** The first message to `address` received at or after `since` that matches `filter`, waiting up to `timeoutMs`. */
export async function waitForMail(address: string, options: { since?: number; timeoutMs?: number; filter?: (mail: CaughtMail) => boolean } = {}): Promise<CaughtMail> {
  const { since = 0, timeoutMs = 30_000, filter = () => true } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const file of readdirSync(MAILBOX_DIR).sort()) {
      const mail = JSON.parse(readFileSync(`${MAILBOX_DIR}${file}`, 'utf8')) as CaughtMail;
      if (mail.recipients.includes(address.toLowerCase()) && mail.receivedAt >= since && filter(mail)) return mail;
    }
    if (Date.now() > deadline) throw new Error(`no mail to ${address} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
