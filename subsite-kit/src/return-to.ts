/**
 * Makes a `next` / return target safe: only a same-origin path (`/forum?x=1`) is kept.
 * Absolute URLs, scheme-relative `//host`, `/\host` (browsers read `\` as `/`), control
 * characters and anything that would resolve to another origin become `/`.
 */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2_048) return '/';
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001F\u007F\\]/.test(value)) return '/';
  try {
    const base = 'http://return-to.invalid';
    const url = new URL(value, base);
    if (url.origin !== base) return '/';
    return `${url.pathname}${url.search}`;
  } catch {
    return '/';
  }
}
