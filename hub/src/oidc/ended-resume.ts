import type { KoaContextWithOIDC } from 'oidc-provider';

/** oidc-provider's SessionNotFound text for a resume whose sign-in session ended meanwhile (resume.js). */
const SESSION_MISMATCH = 'interaction session and authentication session mismatch';

/**
 * The site a consent page was for, when its Allow resumed a sign-in whose hub session had ended
 * meanwhile (signed out in another tab, or expired while the page was open): the origin of the
 * request's `redirect_uri`, which oidc-provider checked against the client when the request came
 * in. Before, the person read "Something went wrong: interaction session and authentication
 * session mismatch" (invalid_request) with no way back to the site (a browser review).
 * Undefined for any other error, or a resume whose interaction is not known.
 */
export function endedResumeSite(ctx: KoaContextWithOIDC, error: unknown): string | undefined {
  const { name, error_description: description } = (error ?? {}) as { name?: string; error_description?: string };
  if (name !== 'SessionNotFound' || description !== SESSION_MISMATCH) return undefined;
  const interaction = (ctx.oidc?.entities as { Interaction?: { params?: Record<string, unknown> } } | undefined)?.Interaction;
  const redirectUri = interaction?.params?.redirect_uri;
  if (typeof redirectUri !== 'string') return undefined;
  try {
    const url = new URL(redirectUri);
    return url.protocol === 'https:' || url.protocol === 'http:' ? `${url.origin}/` : undefined;
  } catch {
    return undefined;
  }
}
