/** Any origin works as the base: only whether the result stays on it matters. */
const BASE = 'http://hub.invalid';
const OTHER_BASE = 'http://other.invalid/a/b';
const MAX_LENGTH = 2048;

/**
 * The path-and-query on the hub that `value` leads to, in the form a browser follows it, or
 * `undefined` when it could leave the hub. Pure and dependency-free.
 *
 * Checking the raw string is not enough: WHATWG URL parsing (what browsers do with a
 * `Location`) removes dot segments, also percent-encoded ones (`%2e`), so `/.//evil.example/x`,
 * `/x/..//evil.example` and `/%2e%2e//evil.example` all serialize to `//evil.example…`, a
 * protocol-relative URL to another host. So the value is normalised first, and the
 * normalised result is what is checked and returned:
 * - it must start with a single `/` (no scheme, no `//host`, no `/\host`: browsers read `\` as `/`);
 * - resolved against the hub, it stays on the hub; resolved against any other origin, it stays
 *   on that one (it carries no authority of its own);
 * - it is a fixed point: normalising it again gives itself, so no second pass (a proxy, the
 *   browser) can turn it into something else.
 * Backslashes and control characters (browsers strip tab and newline) are refused outright.
 */
export function safeRelativePath(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH) return undefined;
  if (!value.startsWith('/') || value.includes('\\') || /[\u0000-\u001f\u007f]/.test(value)) return undefined;
  let result: string;
  try {
    const parsed = new URL(value, BASE);
    if (parsed.origin !== BASE) return undefined;
    result = parsed.pathname + parsed.search;
  } catch {
    return undefined;
  }
  if (!isOriginRelative(result)) return undefined;
  return result;
}

/** A path the browser resolves on whatever origin it is on, and that normalises to itself. */
function isOriginRelative(path: string): boolean {
  if (!path.startsWith('/') || path.startsWith('//') || path.startsWith('/\\') || path.length > MAX_LENGTH) return false;
  try {
    const onHub = new URL(path, BASE);
    const elsewhere = new URL(path, OTHER_BASE);
    return (
      onHub.origin === BASE &&
      elsewhere.origin === new URL(OTHER_BASE).origin &&
      onHub.pathname + onHub.search === path
    );
  } catch {
    return false;
  }
}

/**
 * Where to go after a portal sign-in: only a path on the hub itself (`safeRelativePath`);
 * anything else falls back to the account page.
 */
export function safeNext(value: unknown, fallback = '/account'): string {
  return safeRelativePath(value) ?? fallback;
}
