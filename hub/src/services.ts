import type Provider from 'oidc-provider';
import type { DomainServices } from './domain-services.js';
import type { Draining } from './health/draining.js';
import type { HubMetrics } from './metrics/hub-metrics.js';
import type { OwnedState, Readiness } from './owned-state.js';
import type { AccountLifecycle } from './users/account-lifecycle.js';
import type { AccountSettings } from './users/account-settings.js';
import type { AccountDeletion } from './users/account-deletion.js';
import type { SessionDevices } from './oidc/session-devices.js';
import type { AccountTokens } from './users/account-tokens.js';
import type { PostedForms } from './oidc/posted-forms.js';
import type { OwnerNotices } from './users/owner-notices.js';
import type { PasswordCheck } from './users/password-check.js';
import type { EmailChange } from './users/email-change.js';
import type { PasswordRecovery } from './users/password-recovery.js';
import type { RecoveryLimits } from './security/recovery-limits.js';
import type { DeviceCookies } from './security/device-cookie.js';
import type { LoginThrottle } from './security/login-throttle.js';
import type { SignInStartLimit } from './security/signin-start-limit.js';
import type { TwoStepService } from './two-step/two-step-service.js';
import type { SignupService } from './signup/signup-service.js';
import type { UnverifiedAccounts } from './signup/unverified-accounts.js';
import type { SyncPlanner } from './sync/sync-page.js';
import type { UcenterAppRegistry } from './ucenter/ucenter-apps.js';
import type { UcenterService } from './ucenter/ucenter-service.js';
import type { UcenterInputReplay } from './ucenter/input-replay.js';
import type { UcenterSignInProofs } from './ucenter/synlogin-proofs.js';
import type { Views } from './views/views.js';

/** Everything the hub's routes use, assembled once in `createHub`: the domain services plus the engine. */
export interface HubServices extends DomainServices {
  throttle: LoginThrottle;
  /** Sign-in pages one address may open per window. */
  signInStarts: SignInStartLimit;
  /** OWASP device cookies: browsers that signed in to an account before are not slowed by others' failures. */
  devices: DeviceCookies;
  sync: SyncPlanner;
  /** Two-step sign-in (TOTP and recovery codes), with its own throttle. */
  twoStep: TwoStepService;
  /** The password sign-in check of the portal, the password grant and UCenter's user/login. */
  passwordCheck: PasswordCheck;
  views: Views;
  provider: Provider;
  cookieKeys: string[];
  /** Self-service sign-up and e-mail verification (HUB_SIGNUP, hub/src/signup/). */
  signup: SignupService;
  /** Removes self-service sign-ups never verified nor signed in after HUB_UNVERIFIED_ACCOUNT_DAYS (started by `main`). */
  unverified: UnverifiedAccounts;
  /** Disable, delete, end sessions: with the forced logout at every subsite. */
  lifecycle: AccountLifecycle;
  /** The account page's changes: display name, password. */
  settings: AccountSettings;
  /** The owner deletes their own account (account page): re-authenticated, then the console's delete path. */
  deletion: AccountDeletion;
  /** The browser each hub sign-in session signed in from (account page). */
  sessionDevices: SessionDevices;
  /** Mails that tell an owner their account changed (password, two-step, deleted). */
  notices: OwnerNotices;
  /** Single-use links sent by e-mail (digest at rest). */
  accountTokens: AccountTokens;
  /** Forms POSTed to /auth and /session/end, kept for the GET they become (single use, digest at rest). */
  postedForms: PostedForms;
  /** Per-address request and per-account mail limits for reset and e-mail change. */
  recoveryLimits: RecoveryLimits;
  /** Forgotten password: reset links by e-mail, and the reset that signs out everywhere. */
  recovery: PasswordRecovery;
  /** E-mail change on the account page: confirm the new address, notify the old. */
  emailChange: EmailChange;
  /** The hub as UCenter server for applications bound to UCenter (hub/src/ucenter/). */
  ucenter: { apps: UcenterAppRegistry; service: UcenterService; replay: UcenterInputReplay; proofs: UcenterSignInProofs };
  /** What this process owns in the store (signing keys, cookie keys, portal client), kept and restored. */
  owned: OwnedState;
  /** Ready to serve, or why not (for `/readyz`). */
  readiness(): Promise<Readiness>;
  /** Set on SIGTERM: `/readyz` then answers 503 ("shutting down"). */
  draining: Draining;
  /** The last readiness check that finished: answers `/readyz` while this process's own load holds up a fresh one. */
  lastReadiness?(): { readiness: Readiness; at: number } | undefined;
  /** How old that check may be (3 × HUB_STORE_CHECK_MS, at least 15 s). */
  readinessFreshForMs?: number;
  /** Counts `/readyz` answers held up by this process's own load (`sso_readyz_overloaded_total`). */
  readyzOverloaded?(answer: 'last-check' | 'not-ready', busyMs: number): void;
  /** Prometheus metrics (`/metrics`, `METRICS_TOKEN` / `METRICS_PORT`). */
  metrics: HubMetrics;
}
