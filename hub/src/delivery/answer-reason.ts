/**
 * The reason a subsite gave with an answer that did not count, for the console: the RFC 6749
 * style `error` and `error_description` of a JSON body (the kit answers so: a 503 "token
 * rejected: iat in the future: are the hub's and this server's clocks in sync?" for a server
 * whose clock is off). Before, the console said only `HTTP 503`, retried for days, and why was
 * in the subsite's log alone (a delivery review with a subsite whose clock was wrong).
 *
 * What a subsite says is not trusted: only printable ASCII, at most {@link MAX_REASON_CHARS},
 * anything shaped like a JWT (a token echoed back) replaced, and nothing from a body larger
 * than {@link MAX_BODY_BYTES} or not JSON.
 */
const MAX_BODY_BYTES = 4_096;
export const MAX_REASON_CHARS = 200;
const ERROR_CODE = /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/;
const JWT_LIKE = /[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g;
const LONG_RUN = /[A-Za-z0-9+/_=-]{40,}/g;

export function answerReason(contentType: string | null, body: ArrayBuffer | undefined): string | undefined {
  if (!body || body.byteLength === 0 || body.byteLength > MAX_BODY_BYTES) return undefined;
  if (!/^\s*application\/(?:[\w.+-]+\+)?json\b/i.test(contentType ?? '')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { error, error_description: description } = parsed as Record<string, unknown>;
  if (typeof error !== 'string' || !ERROR_CODE.test(error)) return undefined;
  const said = typeof description === 'string' ? clean(description) : '';
  const text = said ? `${error}: ${said}` : error;
  return text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS - 1)}…` : text;
}

function clean(text: string): string {
  return text
    .replace(/[^\x20-\x7e]+/g, ' ')
    .replace(JWT_LIKE, '[token]')
    .replace(LONG_RUN, '[…]')
    .replace(/\s+/g, ' ')
    .trim();
}
