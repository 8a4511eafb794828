import cookieParser from 'cookie-parser';
import { Router, type Request, type Response } from 'express';
import { msg, TooManyAttemptsError, ValidationError } from '../errors.js';
import { allSettledOrThrow } from '../all-settled.js';
import { clientIp } from '../http/client-ip.js';
import { regenerate, saveSession } from '../http/portal-session.js';
import { csrf } from '../security/csrf.js';
import { newSignInBinding, signInBindingCookieOptions, staleSignInBindings } from '../security/sign-in-binding.js';
import type { SignInResult } from '../oidc/resume-check.js';
import type { HubServices } from '../services.js';
import { amrFor, type SecondFactor } from '../two-step/two-step-service.js';
import { ADMIN_ROLE, type User } from '../users/user.js';
import { localeOf } from '../i18n/locale-middleware.js';
import { recordSignedInAs } from '../oidc/signed-in-as.js';
import { renderPage, renderSyncPage } from './render.js';
import { rememberFinishedSignIn } from './stale-sign-in.js';
import { interactionDetails, type InteractionDetails as Details } from './interaction-details.js';

declare module 'express-session' {
  interface SessionData {
    /** A sign-in whose password was right, waiting for its second step (bound to one interaction). */
    /** `generation` is absent on a pending step an older hub stored (a rolling update): see `CheckedSignIn`. */
    secondStep?: { uid: string; userId: string; remember: boolean; expiresAt: number; generation?: string };
  }
}

/** How long the second-step page waits for a code after the password, in milliseconds. */
const SECOND_STEP_MS = 5 * 60_000;


function field(req: Request, name: string): string {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

/** The pending second step of this browser for interaction `uid`, if it has not expired. */
export function pendingSecondStep(req: Request, uid: string): { userId: string; remember: boolean; generation?: string } | undefined {
  const pending = req.session.secondStep;
  if (!pending || pending.uid !== uid || pending.expiresAt < Date.now()) return undefined;
  return pending;
}

/** Whose password was checked, and the user's sign-in generation read with the hash it was checked against. */
export interface CheckedSignIn {
  userId: string;
  /** An admin's sign-in pings no script beacons (see SyncPlanner.forSignIn). */
  admin: boolean;
  /**
   * Absent only when an older hub checked the password (its pending second step records none):
   * the result then carries none either, and the resume check has nothing to compare.
   */
  generation?: string;
  /** The language the account's record keeps (User.locale): a sign-in in another one records it. */
  locale?: string;
}

/** The sign-in checked for `user`; `generation` as read with the password's hash (see above). */
export function checkedSignIn(user: User, generation: string | undefined): CheckedSignIn {
  return { userId: user.id, admin: user.roles.includes(ADMIN_ROLE), ...(generation === undefined ? {} : { generation }), ...(user.locale === undefined ? {} : { locale: user.locale }) };
}

/** The user's sign-in generation as a sign-in records it (`''` for records from before it). */
export function signInGenerationOf(user: User): string {
  return user.signInGeneration ?? '';
}

/**
 * The end of every portal sign-in, one factor or two: the sign-in is audited
 * (`login.success`), the portal session gets a new id (no fixation), the interaction finishes
 * with the sign-in's `amr` (oidc-provider puts it in the session and in ID tokens), and the
 * sync page tells the subsites.
 */
export async function completeSignIn(services: HubServices, req: Request, res: Response, details: Details, signIn: CheckedSignIn, remember: boolean, factor?: SecondFactor): Promise<void> {
  const { provider, sync, views, config, audit, users } = services;
  const { userId } = signIn;
  // Only this browser may resume the login (security/sign-in-binding.ts): its token in a cookie,
  // its digest in the interaction's result.
  const binding = newSignInBinding(config.secureCookies, details.uid);
  const result: SignInResult = { login: { accountId: userId, amr: amrFor(factor), remember }, ...(signIn.generation === undefined ? {} : { signInGeneration: signIn.generation }), browser: { uid: details.uid, digest: binding.digest } };
  // The interaction this request read at its start gets the result, as interactionResult would
  // (without merging the last submission) after reading it again: one store read fewer. Only
  // while it has a second left; else the engine's own path, which reads it (and fails if gone).
  const ttl = details.exp - Math.floor(Date.now() / 1000);
  res.cookie(binding.name, binding.token, signInBindingCookieOptions(config.secureCookies, ttl));
  for (const stale of staleSignInBindings(config.secureCookies, req.headers.cookie)) {
    if (stale !== binding.name) res.clearCookie(stale, { ...signInBindingCookieOptions(config.secureCookies, 1), maxAge: undefined });
  }
  const finish = async (): Promise<string> => {
    if (ttl < 1) return provider.interactionResult(req, res, result, { mergeWithLastSubmission: false });
    details.result = result;
    await details.save(ttl);
    return details.returnTo;
  };
  // Side by side (one wait on the store where they were five): the audit entry, the portal
  // session's new id (no fixation), the interaction's result and the sync page's reads. None reads
  // what another writes. All of them settle before anything is answered: an error page sent while
  // the old session's removal was still in flight would let express-session store the old
  // session again at the end of the answer. If one fails, the page is an error and the browser
  // holds no new session. Nothing goes out before the entry is stored (recording never fails).
  // Script beacons run in the hub's origin (SyncPlanner.forSignIn): not for an admin, nor while
  // this browser still holds another account's hub session, which oidc-provider ends only after
  // the sync page, through a form the browser posts (a review: switching from an admin's account
  // to another one left the admin's session live under the scripts). The interaction knows the
  // session it started with; one made since (another tab) regenerated the portal session, so
  // this form's CSRF token is refused before it gets here (stale-sign-in.ts).
  const scripts = !signIn.admin && (details.session?.accountId ?? userId) === userId;
  // The language the owner reads, for the mails the hub sends them later without a page of
  // theirs to go by (an admin's reset of their two-step, a password reset asked by anyone): the
  // one they last signed in in. Before, only a self-sign-up recorded one, and an account an admin,
  // a seed or a UCenter import made got English mail (an accounts review). Written only when it changed,
  // and best effort: the sign-in does not fail for it (a write racing with others on the record gives
  // up with a ConflictError); the record still differs, so the next sign-in writes it.
  const locale = localeOf(res);
  const [, , , continueUrl, plan] = await allSettledOrThrow([
    signIn.locale === locale ? Promise.resolve() : users.rememberLocale(userId, locale).catch(() => undefined),
    audit.record({ event: 'login.success', actor: userId, subject: userId, client: String(details.params.client_id), ip: clientIp(req), ...(factor ? { detail: { second_factor: factor } } : {}) }),
    regenerate(req),
    finish(),
    sync.forSignIn(userId, { scripts }),
  ] as const);
  rememberFinishedSignIn(req, details.uid, details.params);
  // Which account this browser signed in as, for a sign-out after the hub session expired (logout-sync.ts).
  recordSignedInAs(provider, req, res, userId, { secure: config.secureCookies, remember, maxTtlSeconds: config.HUB_SESSION_MAX_TTL });
  // The new portal session (the finished sign-in, the portal's pending state) is stored before
  // the sync page goes out: saved after it, a failure would end at the portal callback.
  await saveSession(req);
  renderSyncPage(res, views, plan, continueUrl, config.SYNC_WAIT_MS);
}

/**
 * After a right password, for a user with two-step sign-in: no hub session yet. The browser
 * gets a new portal session id (a fixed one must not carry a half-done sign-in) holding
 * only "password done, for this interaction, until T", and is sent to the second step.
 */
export async function startSecondStep(req: Request, res: Response, uid: string, user: User, remember: boolean): Promise<void> {
  await regenerate(req);
  req.session.secondStep = { uid, userId: user.id, remember, expiresAt: Date.now() + SECOND_STEP_MS, generation: signInGenerationOf(user) };
  await saveSession(req);
  res.redirect(303, `/interaction/${encodeURIComponent(uid)}`);
}

/**
 * The second-step page; `error` is a key of totp:errors; `expired`: the pending step is gone,
 * start again; `recovery`: the error answers the recovery-code field (it is shown, marked and focused).
 */
export function showSecondStep(services: HubServices, req: Request, res: Response, uid: string, options: { error?: string; expired?: boolean; status?: number; recovery?: boolean } = {}): void {
  // The form names whose sign-in it finishes: sent after another account signed in in this
  // browser, it is told apart from one of the same account (stale-sign-in.ts).
  const account = pendingSecondStep(req, uid)?.userId;
  renderPage(res, services.views, 'hub/two-step-challenge.njk', { uid, account, csrfToken: csrf.generateToken(req), error: options.error, expired: options.expired, recovery: options.recovery === true }, options.status ?? 200);
}

/** `POST /interaction/:uid/two-step`: the code from the app or a recovery code. */
export function secondStepRoutes(services: HubServices): Router {
  const { provider, users, devices, twoStep, audit } = services;
  const router = Router();

  router.post('/interaction/:uid/two-step', cookieParser(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const details = await interactionDetails(provider, req, res);
    if (details.prompt.name !== 'login') throw new ValidationError(msg('errors:signInStepDone'));
    const client = String(details.params.client_id);
    const ip = clientIp(req);
    const pending = pendingSecondStep(req, details.uid);
    const user = pending ? await users.findById(pending.userId) : undefined;
    if (!pending || !user || user.disabled) {
      // Too late (or the account went meanwhile): back to the password, never a session.
      delete req.session.secondStep;
      return showSecondStep(services, req, res, details.uid, { expired: true, status: 400 });
    }
    // As for passwords: the owner's known browser is judged by its own failures only.
    const device = devices.verify(user.id, signInGenerationOf(user), req.cookies as Record<string, unknown> | undefined);
    const attempt = { ip, account: user.id, via: 'portal' as const, ...(device ? { device } : {}) };
    // Which of the page's two fields was sent (the app's code or a recovery code): an error goes back to it.
    const recovery = field(req, 'via') === 'recovery';
    let factor: SecondFactor | undefined;
    try {
      factor = await twoStep.verifyThrottled(attempt, field(req, 'code'));
    } catch (error) {
      if (!(error instanceof TooManyAttemptsError)) throw error;
      await audit.record({ event: 'login.throttled', actor: user.id, subject: user.id, client, ip, detail: { step: 'two-step' } });
      res.setHeader('Retry-After', String(error.retryAfterSeconds));
      return showSecondStep(services, req, res, details.uid, { error: 'tooMany', status: 429, recovery });
    }
    if (!factor) {
      await audit.record({ event: 'login.failure', actor: user.id, subject: user.id, client, ip, detail: { step: 'two-step' } });
      return showSecondStep(services, req, res, details.uid, { error: 'wrongCode', status: 401, recovery });
    }
    delete req.session.secondStep;
    const issued = devices.issue(user.id, signInGenerationOf(user));
    res.cookie(issued.name, issued.value, issued.options);
    // The generation read with the password's hash: a reset since then refuses it at resume.
    return completeSignIn(services, req, res, details, checkedSignIn(user, pending.generation), pending.remember, factor);
  });

  return router;
}
