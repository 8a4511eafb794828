import { createHash } from 'node:crypto';
import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';
import { registrationKey, type UcenterApp } from './ucenter-app.js';

/**
 * How old (or how far ahead) a client API input's `time` may be, in seconds. UCenter allows an
 * hour into the past; the hub allows ten minutes either way, enough for clock drift.
 */
export const INPUT_MAX_SKEW_SECONDS = 600;

/**
 * Each client API call is taken once. UCenter itself only checks the call's `time`, so a
 * request captured on the way (UC_API is often plain http) could be sent again for as long as
 * that time is accepted: a `user/login` again, an `edit`, a `synlogout`. A call is known by its
 * dynamic key (`keyc`, the 4 characters in clear in front of every authcode, fresh per call)
 * and its decoded data; a replay has both the same, while two honest calls made in the same
 * second with the same data differ in `keyc` (all but once in 65,536).
 */
export class UcenterInputReplay {
  /** How long a call is remembered: as long as its `time` is accepted, both ways. */
  static readonly REMEMBER_SECONDS = 2 * INPUT_MAX_SKEW_SECONDS;

  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
  ) {}

  /** True the first time this application sends this call; false for a replay. */
  async claim(app: Pick<UcenterApp, 'appId' | 'generation'>, input: string, decoded: string): Promise<boolean> {
    const digest = createHash('sha256').update(`${input.slice(0, 4)}\n${decoded}`).digest('base64url');
    return this.store.set(this.keys.ucenterInputSeen(registrationKey(app), digest), '1', { ttlSeconds: UcenterInputReplay.REMEMBER_SECONDS, onlyIfAbsent: true });
  }
}
