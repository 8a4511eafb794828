import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';
import { INPUT_MAX_SKEW_SECONDS } from './input-replay.js';
import { registrationKey, type UcenterApp } from './ucenter-app.js';

/**
 * What lets an application ask for a member's `user/synlogin` scripts: that it has just signed
 * that member in with their password (`user/login`) or registered them (`user/register`).
 * uc_client asks right after either (Discuz!: `uc_user_login`, then `uc_user_synlogin` on the
 * same page). Without it, any application's key signed anyone in at every other application,
 * the hub's admin too: `uid` is the application's word. A proof is taken once and kept for
 * as long as a call's `time` is accepted (10 minutes: Discuz!'s activation form may sit between).
 * Proofs belong to the application's registration: one registered later under a removed one's app
 * id finds none of its proofs.
 */
export class UcenterSignInProofs {
  static readonly KEEP_SECONDS = INPUT_MAX_SKEW_SECONDS;

  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
  ) {}

  /** This application signed member `uid` in (or created them) just now. */
  async record(app: Pick<UcenterApp, 'appId' | 'generation'>, uid: number): Promise<void> {
    if (!(uid > 0)) return;
    await this.store.set(this.keys.ucenterSignedIn(registrationKey(app), uid), '1', { ttlSeconds: UcenterSignInProofs.KEEP_SECONDS });
  }

  /** True once after {@link record} for this application and member; false otherwise. */
  async take(app: Pick<UcenterApp, 'appId' | 'generation'>, uid: number): Promise<boolean> {
    if (!(uid > 0)) return false;
    return (await this.store.take(this.keys.ucenterSignedIn(registrationKey(app), uid))) !== null;
  }
}
