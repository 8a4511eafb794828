/* The signing algorithms and what a key's type implies: no imports, so the configuration can check HUB_JWKS with them. */

/**
 * The ID-token signing algorithms the hub offers. RS256 is the one every OIDC client must
 * support and stays the default; ES256 (P-256) and EdDSA (Ed25519) sign about four times
 * faster, for clients that register `id_token_signed_response_alg` for them.
 */
export const SIGNING_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];
export const DEFAULT_SIGNING_ALG: SigningAlg = 'RS256';

export function isSigningAlg(value: unknown): value is SigningAlg {
  return typeof value === 'string' && (SIGNING_ALGS as readonly string[]).includes(value);
}

/** The alg a stored key signs with: its `alg`, or what its key type implies (RSA keys from before: RS256). */
export function algOfKey(jwk: Record<string, unknown>): SigningAlg | undefined {
  if (isSigningAlg(jwk.alg)) return jwk.alg;
  if (jwk.alg !== undefined) return undefined;
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  return undefined;
}


/** The kinds of key in a key set, in the order of SIGNING_ALGS. */
export function signingAlgsOf(keys: readonly Record<string, unknown>[]): SigningAlg[] {
  const held = new Set(keys.map(algOfKey));
  return SIGNING_ALGS.filter((alg) => held.has(alg));
}
