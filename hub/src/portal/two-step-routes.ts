import { Router, type Request, type Response } from 'express';
import { TooManyAttemptsError } from '../errors.js';
import { clientIp } from '../http/client-ip.js';
import { csrf } from '../security/csrf.js';
import type { HubServices } from '../services.js';
import { looksLikeRecoveryCode } from '../two-step/recovery-codes.js';
import { looksLikeTotp } from '../two-step/totp.js';
import { currentUser, rotateHubSession, signInFirst, type SignedIn } from './current-user.js';
import { redirectWithFailedForm, takeFailedForm } from './failed-form.js';
import { renderPage } from './render.js';
import { localeOf } from '../i18n/locale-middleware.js';
import { renewDeviceCookie } from './device-renewal.js';

/** Notices a redirect may ask the page to show, by code (no text reflected from the URL): keys of totp:settings. */
const NOTICES = new Set(['disabled']);

const PAGE = '/account/two-step';
/** The forms of the page; a refusal marks and focuses the field of its own. */
type TwoStepForm = 'enable' | 'regenerate' | 'disable';
const FORMS = new Set<string>(['enable', 'regenerate', 'disable']);
/** The refusals the page shows: keys of totp:errors. */
const ERRORS = new Set(['password', 'proof', 'tooMany', 'enrolCode', 'enrolExpired']);
const ERROR_KEY_PREFIX = 'totp:errors.';

/** What a refusal of the page's forms is: a key of totp:errors, its status, and a wait when throttled. */
interface Refusal {
  error: string;
  status: number;
  retryAfterSeconds?: number;
}

function field(req: Request, name: string): string {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value.slice(0, 1024) : '';
}

/**
 * The account page's two-step section (`/account/two-step`): enrol with a QR code and a
 * first code, see how many recovery codes are left, make new ones or turn two-step off
 * (each proven again with the password or a current code). Every form has a CSRF token;
 * every change is audited. A refused form is answered POST-redirect-GET (portal/failed-form.ts),
 * as the other account forms are: Back to the page never asks to send the password again.
 */
export function twoStepRoutes(services: HubServices): Router {
  const { provider, users, views, twoStep, hasher, throttle, audit } = services;
  const router = Router();

  async function requireUser(req: Request, res: Response): Promise<SignedIn | undefined> {
    const signedIn = await currentUser(provider, users, req, res);
    if (!signedIn) signInFirst(req, res, '/account/two-step');
    return signedIn;
  }

  /** The page; `error` is a key of totp:errors, `form` the form it answers (its field is marked and focused). */
  async function show(req: Request, res: Response, signedIn: SignedIn, options: { error?: string; status?: number; form?: TwoStepForm } = {}) {
    const status = await twoStep.status(signedIn.user.id);
    const enrolment = status.enabled ? undefined : await twoStep.beginEnrolment(signedIn.user.id, signedIn.user.username, signedIn.sessionUid);
    const notice = typeof req.query.done === 'string' && NOTICES.has(req.query.done) ? req.query.done : undefined;
    renderPage(res, views, 'hub/two-step.njk', {
      status,
      enrolment,
      notice,
      required: req.query.required === 'admin',
      error: options.error,
      form: options.form,
      username: signedIn.user.username,
      csrfToken: csrf.generateToken(req),
    }, options.status ?? 200);
  }

  /**
   * Proof for a change: the password, or (unless `passwordOnly`) a current TOTP or recovery
   * code (a code is spent). Each under the throttle of its kind, so the account page is no
   * side door for guessing.
   */
  async function proven(req: Request, signedIn: SignedIn, passwordOnly: boolean): Promise<boolean> {
    const proof = field(req, 'proof');
    const { user } = signedIn;
    // A signed-in user at their own settings: judged per account and address (as the password
    // change is), so someone else's failed sign-ins never block the owner here.
    const attempt = { ip: clientIp(req), account: user.id, via: 'session' as const };
    const passwordProven = async () => {
      const admitted = await throttle.attempt(attempt);
      if (await throttle.checking(admitted, () => hasher.verify(user.passwordHash, proof))) {
        await throttle.succeeded(admitted);
        return true;
      }
      await throttle.failed(admitted);
      return false;
    };
    if (passwordOnly || !(looksLikeTotp(proof) || looksLikeRecoveryCode(proof))) {
      if (await passwordProven()) return true;
    } else if (looksLikeTotp(proof)) {
      if (await twoStep.verifyThrottled(attempt, proof)) return true;
    } else {
      // Shaped like a recovery code: ten letters and digits (no u; case ignored), which is also a
      // password the policy takes ("Qx7kM2vbT9"). Judged as a code only, its owner could never use
      // that password here (a browser review). The password first (a recovery code is rarely
      // typed here), then the code, each under its own throttle; a throttled password pool does
      // not keep a recovery code from being checked.
      let throttled: TooManyAttemptsError | undefined;
      const asPassword = await passwordProven().catch((error: unknown) => {
        if (!(error instanceof TooManyAttemptsError)) throw error;
        throttled = error;
        return false;
      });
      if (asPassword || (await twoStep.verifyThrottled(attempt, proof))) return true;
      // Neither: the password's pool was closed, so the answer says to wait (429), not "not right".
      if (throttled) throw throttled;
    }
    await audit.record({ event: 'login.failure', actor: user.id, subject: user.id, ip: clientIp(req), detail: { step: 'two-step-settings' } });
    return false;
  }

  router.get(PAGE, async (req, res) => {
    const signedIn = await requireUser(req, res);
    if (!signedIn) return;
    // A refused form comes back here (POST-redirect-GET, portal/failed-form.ts): no POST result in the history.
    const refused = takeFailedForm(req, res, PAGE);
    const error = refused?.error.key?.startsWith(ERROR_KEY_PREFIX) ? refused.error.key.slice(ERROR_KEY_PREFIX.length) : undefined;
    if (!refused || !error || !ERRORS.has(error) || !FORMS.has(refused.error.field)) return show(req, res, signedIn);
    await show(req, res, signedIn, { error, status: refused.status, form: refused.error.field as TwoStepForm });
  });

  /**
   * A refused form: kept in the portal session for the page's next GET, which shows it (the key
   * of its message, the form, the status and `Retry-After`; never the password or code typed).
   */
  function refuse(req: Request, res: Response, form: TwoStepForm, refusal: Refusal): Promise<void> {
    return redirectWithFailedForm(req, res, {
      page: PAGE,
      status: refusal.status,
      ...(refusal.retryAfterSeconds !== undefined ? { retryAfterSeconds: refusal.retryAfterSeconds } : {}),
      error: { message: refusal.error, key: `${ERROR_KEY_PREFIX}${refusal.error}`, field: form },
      values: {},
    });
  }

  router.post('/account/two-step/enable', csrf.csrfSynchronisedProtection, async (req, res) => {
    const signedIn = await requireUser(req, res);
    if (!signedIn) return;
    if (await twoStep.isEnabled(signedIn.user.id)) return res.redirect(303, '/account/two-step');
    // The password first: a session alone (a borrowed or stolen one) must not be able to put
    // a second step only its holder can pass in front of the owner's account.
    const failed = await proofFailure(req, signedIn, true);
    if (failed) return refuse(req, res, 'enable', failed);
    const confirmed = await twoStep.confirmEnrolment(signedIn.user.id, signedIn.sessionUid, field(req, 'code'));
    if ('refused' in confirmed) return refuse(req, res, 'enable', { error: confirmed.refused, status: 400 });
    const { codes } = confirmed;
    // Every other session of the user ends, as after a password change: one signed in with the
    // password alone (a stolen password) would otherwise keep going, and reach the admin console
    // once HUB_ADMIN_REQUIRE_TOTP's per-user check saw two-step on (a review). This one proved the
    // code. Two-step is on and the codes exist whether or not the ending works, so a failure (the
    // store gone a moment) does not lose the codes, shown only in this answer: the page says so.
    const ended = await services.lifecycle.endOtherSessions(signedIn.user.id, signedIn.sessionUid).catch(() => undefined);
    // This browser proved the password and a code: it stays a known device under the new generation.
    if (ended) await renewDeviceCookie(services, res, signedIn.user.id);
    // And under a new id, as after a password change: a copy of this browser's cookie (signed in
    // with the password alone) is no other session, and kept going.
    if (ended) await rotateHubSession(services.provider, req, res, services.config.secureCookies);
    await audit.record({ event: 'two-step.enabled', actor: signedIn.user.id, subject: signedIn.user.id, ip: clientIp(req), detail: ended ?? { others_ended: false } });
    tellOwner(res, signedIn, 'enabled');
    // Shown once, in this answer: the store has only their digests.
    return renderPage(res, views, 'hub/two-step-codes.njk', { codes, enabled: true, othersNotEnded: ended === undefined });
  });

  router.post('/account/two-step/recovery-codes', csrf.csrfSynchronisedProtection, async (req, res) => {
    const signedIn = await requireUser(req, res);
    if (!signedIn) return;
    if (!(await twoStep.isEnabled(signedIn.user.id))) return res.redirect(303, '/account/two-step');
    const failed = await proofFailure(req, signedIn);
    if (failed) return refuse(req, res, 'regenerate', failed);
    let codes: string[];
    try {
      codes = await twoStep.regenerateRecoveryCodes(signedIn.user.id);
    } catch (error) {
      // Sets made this hour past the limit (each is ten argon2id runs): wait, as for failed proofs.
      if (!(error instanceof TooManyAttemptsError)) throw error;
      return refuse(req, res, 'regenerate', { error: 'tooMany', status: 429, retryAfterSeconds: error.retryAfterSeconds });
    }
    await audit.record({ event: 'two-step.recovery-codes', actor: signedIn.user.id, subject: signedIn.user.id, ip: clientIp(req) });
    tellOwner(res, signedIn, 'codes');
    return renderPage(res, views, 'hub/two-step-codes.njk', { codes, enabled: false });
  });

  router.post('/account/two-step/disable', csrf.csrfSynchronisedProtection, async (req, res) => {
    const signedIn = await requireUser(req, res);
    if (!signedIn) return;
    if (!(await twoStep.isEnabled(signedIn.user.id))) return res.redirect(303, '/account/two-step');
    const failed = await proofFailure(req, signedIn);
    if (failed) return refuse(req, res, 'disable', failed);
    await twoStep.disable(signedIn.user.id);
    await audit.record({ event: 'two-step.disabled', actor: signedIn.user.id, subject: signedIn.user.id, ip: clientIp(req) });
    tellOwner(res, signedIn, 'disabled');
    return res.redirect(303, '/account/two-step?done=disabled');
  });

  /** Turning the second step off from a stolen session with a phished password must not go unseen. */
  const tellOwner = (res: Response, signedIn: SignedIn, change: 'enabled' | 'disabled' | 'codes') => services.notices.twoStepChanged(signedIn.user, localeOf(res), change);

  /** Undefined when proven; else what the page says (wrong proof, or wait first). */
  async function proofFailure(req: Request, signedIn: SignedIn, passwordOnly = false): Promise<Refusal | undefined> {
    try {
      return (await proven(req, signedIn, passwordOnly)) ? undefined : { error: passwordOnly ? 'password' : 'proof', status: 401 };
    } catch (error) {
      if (!(error instanceof TooManyAttemptsError)) throw error;
      return { error: 'tooMany', status: 429, retryAfterSeconds: error.retryAfterSeconds };
    }
  }

  return router;
}
