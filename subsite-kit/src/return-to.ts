/** A stand-in origin to resolve against: only whether the result stays on it matters. */
const BASE = 'http://return-to.invalid';
const MAX_LENGTH = 2_048; // characters; longer targets are not worth the risk

/**
 * Makes a `next` / return target safe: only a same-origin path (`/forum?x=1`) is kept.
 * Absolute URLs, scheme-relative `//host`, `/\host` (browsers read `\` as `/`), control
 * characters and anything that would resolve to another origin become `/`.
 *
 * The target is normalised the way the browser will read it (WHATWG URL against the site's
 * origin), and the *serialized* result is checked again: `/.//evil.example/x` normalises to
 * `//evil.example/x`, which a browser reads as another host (RFC 9700 §4.11, open redirect).
 */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH) return '/';
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001F\u007F\\]/.test(value)) return '/';
  let url: URL;
  try {
    url = new URL(value, BASE);
  } catch {
    return '/';
  }
  if (url.origin !== BASE) return '/';
  const result = `${url.pathname}${url.search}`;
  return isSafePath(result) ? result : '/';
}

/** The output check: a single leading `/`, never `//` or `/\`, nothing a browser could read as a host. */
function isSafePath(path: string): boolean {
  // eslint-disable-next-line no-control-regex
  return path.startsWith('/') && !path.startsWith('//') && !path.startsWith('/\\') && !/[\u0000-\u001F\u007F\\]/.test(path);
}
