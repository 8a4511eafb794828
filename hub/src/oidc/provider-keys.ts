import type Provider from 'oidc-provider';
// oidc-provider builds its keystore (what it signs and verifies with) and the JWKS it
// publishes at /jwks once, in its constructor, and has no public call to change them.
// Running the same initialiser again on the instance replaces both in one synchronous
// step, so no request ever sees a published set and a signing key that disagree. The
// version is pinned (~9.13); test/key-rotation.test.ts fails if an upgrade changes this.
import initializeKeystore from 'oidc-provider/lib/helpers/initialize_keystore.js';
import type { Jwks } from '../secrets/secrets.js';

/** Swaps the provider's signing keys live: the first key of an alg signs, all verify and are published. */
export function replaceProviderKeys(provider: Provider, jwks: Jwks): void {
  initializeKeystore.call(provider, structuredClone(jwks));
}
