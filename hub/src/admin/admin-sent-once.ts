import type { Request } from 'express';
import { randomPool } from '../secrets/random-pool.js';
import type { HubServices } from '../services.js';
import { digest } from '../store/keys.js';

/**
 * How long a console form is remembered as sent, in seconds: a day covers a reload, Back and
 * Forward, or a tab left open over lunch; an older page is not sent again in practice.
 */
export const FORM_SENT_TTL_SECONDS = 24 * 3600;
/** The token's randomness: 192 bits, base64url (32 characters). */
const TOKEN_BYTES = 24;
const TOKEN = /^[A-Za-z0-9_-]{32}$/;

/** A fresh token for one view of a form (`_once`): every page the console renders has its own. */
export function newFormToken(): string {
  return randomPool.token(TOKEN_BYTES);
}

/** What a sent-once form did the first time, for the page that answers it again (`admin:sentOnce.<kind>`). */
export type SentOnceKind = 'rotateSecret' | 'rotateSyncKey' | 'register' | 'invite' | 'ucenterKey' | 'ucenterRegister';

/** The claim of one send of a form: `first` false when the same form (its `_once`) was sent before. */
export interface FormClaim {
  first: boolean;
  /** Forgets the send (the action failed or was refused): the same form may be sent again. */
  release(): Promise<void>;
}

/**
 * The forms that make a secret or a single-use link (rotate the client secret or the sync key,
 * register a subsite, create an invite) act once per page shown. Reloading the answer page (the
 * browser sends the form again), Back then Forward, or a double click sent the same form twice:
 * the secret rotated again, another one was shown, and a rotation with an overlap stopped the
 * secret the subsite still used (an exploratory review in Chromium). The form carries a random
 * `_once`; its digest is set with SET NX, so of two sends at once only one acts. A form without
 * `_once` (a program's POST) acts as before.
 */
export async function claimForm(services: HubServices, req: Request): Promise<FormClaim> {
  const token = (req.body as Record<string, unknown> | undefined)?._once;
  if (typeof token !== 'string' || !TOKEN.test(token)) return { first: true, release: async () => {} };
  // One token per page, claimed per form: a page's other forms (another app's rotate button) stay usable.
  const form = req.originalUrl.split('?')[0];
  const key = services.keys.adminFormSent(digest(`${form}\n${token}`));
  const first = await services.store.set(key, '1', { onlyIfAbsent: true, ttlSeconds: FORM_SENT_TTL_SECONDS });
  return {
    first,
    release: async () => {
      if (first) await services.store.del(key);
    },
  };
}

/**
 * Runs `action` once per sent form: a form sent again gets the "already done" page (409), with
 * a link back to `back`, and nothing is done; a failure or a refusal forgets the send.
 */
export async function onceOnly(services: HubServices, req: Request, kind: SentOnceKind, back: string, action: (claim: FormClaim) => Promise<void>, render: (template: string, context: Record<string, unknown>, status: number) => void): Promise<void> {
  const claim = await claimForm(services, req);
  if (!claim.first) {
    render('sent-once.njk', { kind, back }, 409);
    return;
  }
  try {
    await action(claim);
  } catch (error) {
    await claim.release();
    throw error;
  }
}
