import { hash } from 'node:crypto';

/**
 * What a console form was opened with, as a short digest for a hidden field (`_secretSeen`,
 * `_syncKeySeen`, `_keySeen`, a UCenter application's `_seen`): the value itself (a key, a secret's
 * digest, settings) is not on the page, and a press from a page opened before a change since is
 * told apart. `purpose` keeps digests of one value for different forms apart.
 */
export function seenDigest(purpose: string, value: string): string {
  return hash('sha256', `${purpose}:${value}`, 'base64url').slice(0, 22);
}
