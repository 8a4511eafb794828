/**
 * Where to go after a portal sign-in: only a path on the hub itself. Absolute URLs,
 * protocol-relative `//host` and backslash tricks fall back to the account page.
 */
export function safeNext(value: unknown, fallback = '/account'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return fallback;
  if (!value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return fallback;
  if (/[\u0000-\u001f]/.test(value)) return fallback;
  try {
    const parsed = new URL(value, 'http://hub.invalid');
    if (parsed.origin !== 'http://hub.invalid') return fallback;
    return parsed.pathname + parsed.search;
  } catch {
    return fallback;
  }
}
