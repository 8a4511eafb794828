import { expect } from '@jest/globals';
import type { Express } from 'express';
import request from 'supertest';

/** The store's password, changed and put back by the test (`CONFIG SET requirepass` on every server, other clients cut off). */
export interface PasswordChange {
  old: string;
  changed: string;
  set(from: string, to: string): Promise<void>;
}

const REFUSED = /^store refuses this site's Redis credentials \(Redis answers (WRONGPASS|NOAUTH)\): check the password \(and user\) of the Redis client given to the kit as `redis`/;

/**
 * The password changed under a running site: `/readyz` answers 503 saying the credentials are
 * refused (`reason`), never showing either password, within `withinMs` when given; then the
 * password is put back (whatever happened) and, with `readyAgainTries`, the site is ready again
 * within that many checks 250 ms apart.
 */
export async function expectCredentialsRefused(app: Express, password: PasswordChange, options: { reason?: RegExp; withinMs?: number; readyAgainTries?: number } = {}): Promise<void> {
  let restored = false;
  try {
    expect((await request(app).get('/readyz')).body).toEqual({ ready: true, reasons: [] });
    await password.set(password.old, password.changed);
    const started = Date.now();
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.reasons).toEqual([expect.stringMatching(options.reason ?? REFUSED)]);
    if (options.withinMs !== undefined) expect(Date.now() - started).toBeLessThan(options.withinMs);
    expect(res.text).not.toContain(password.old);
    expect(res.text).not.toContain(password.changed);
    await password.set(password.changed, password.old);
    restored = true;
    if (options.readyAgainTries === undefined) return;
    let ready = false;
    for (let i = 0; i < options.readyAgainTries && !ready; i += 1) {
      ready = (await request(app).get('/readyz')).status === 200;
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(ready).toBe(true);
  } finally {
    if (!restored) await password.set(password.changed, password.old).catch(() => undefined);
  }
}
