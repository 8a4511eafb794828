import fc from 'fast-check';
import { safeNext, safeRelativePath } from './safe-next.js';

const HUB = 'http://hub.sso.localhost:4000';
/** Where the browser is when it follows the redirect. */
const AT_LOGIN = `${HUB}/login?next=x`;

/**
 * What a browser does with `Location: <value>`: resolve it (WHATWG URL) against the page it is
 * on. A safe value lands on the same origin from the hub, and from anywhere else on that
 * origin too (it carries no host of its own).
 */
function followedFrom(base: string, location: string): string {
  return new URL(location, base).origin;
}

/** Pieces an attacker combines: separators, dot segments, their encodings, hosts, whitespace. */
const piece = fc.constantFrom(
  '/', '//', '\\', '/\\', '.', '..', './', '../', '%2e', '%2E', '%2e%2e', '.%2e', '%2f', '%2F', '%5c', '%5C',
  '%252e', '%09', '%0a', '%00', '\t', '\n', '\r', ' ', '\u3002', 'evil.example', 'evil.example:443', 'x', 'a',
  '@', ':', 'http:', 'https:', 'javascript:', '?', '#', '&', '=', 'next', '%40', '\u00e9', '\uff0f',
);
const attempt = fc.array(piece, { minLength: 1, maxLength: 12 }).map((parts) => parts.join(''));
/** The same, but starting like a path, to get past the first check more often. */
const pathLike = attempt.map((rest) => `/${rest}`);

describe('safe next (RFC 9700 §4.11 open redirectors; ASVS 5 V3.7.2)', () => {
  test.each([
    ['/.//evil.example/x'],
    ['/x/..//evil.example'],
    ['/%2e//evil.example/x'],
    ['/%2e%2e//evil.example'],
    ['/a/%2E%2E//evil.example/x'],
    ['/./%2e/..//evil.example'],
    ['//evil.example/x'],
    ['/\\evil.example'],
    ['/\t/evil.example'],
    ['/\n/evil.example'],
    ['http://evil.example/'],
    ['https:evil.example'],
    ['evil.example'],
    [''],
  ])('regression: %j never leaves the hub', (value) => {
    const result = safeNext(value);
    expect(result.startsWith('//')).toBe(false);
    expect(followedFrom(AT_LOGIN, result)).toBe(HUB);
    expect(followedFrom('http://evil.invalid/', result)).toBe('http://evil.invalid');
  });

  test('the dot-segment tricks of issue 9 fall back to the account page', () => {
    expect(safeNext('/.//evil.example/x')).toBe('/account');
    expect(safeNext('/x/..//evil.example')).toBe('/account');
    expect(safeNext('/%2e%2e//evil.example')).toBe('/account');
  });

  test('honest paths and queries are kept as they are', () => {
    expect(safeNext('/account')).toBe('/account');
    expect(safeNext('/admin/users?q=al%20ice&done=1')).toBe('/admin/users?q=al%20ice&done=1');
    expect(safeNext('/a/./b/../c')).toBe('/a/c');
    expect(safeNext('/a/%2f%2fevil.example')).toBe('/a/%2f%2fevil.example'); // an encoded slash is not a separator
    expect(safeNext('/x#frag')).toBe('/x');
  });

  test('property: whatever the input, the browser stays on the hub', () => {
    fc.assert(
      fc.property(fc.oneof(attempt, pathLike, fc.string(), fc.webPath()), (value) => {
        const result = safeNext(value);
        // The browser follows it from the sign-in page: still on the hub.
        expect(followedFrom(AT_LOGIN, result)).toBe(HUB);
        // And it has no authority of its own: from any other origin it stays there.
        expect(followedFrom('http://evil.invalid/deep/path', result)).toBe('http://evil.invalid');
        expect(result.startsWith('/')).toBe(true);
        expect(result.startsWith('//') || result.startsWith('/\\')).toBe(false);
        expect(/[\u0000-\u001f\\]/.test(result)).toBe(false);
        // A fixed point: nothing downstream can normalise it into something else.
        expect(safeNext(result)).toBe(result);
        expect(new URL(result, HUB).pathname + new URL(result, HUB).search).toBe(result);
      }),
      { numRuns: 5000 },
    );
  });

  test('property: a plain path on the hub survives unchanged', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), (segments) => {
        const path = `/${segments.join('/')}`;
        expect(safeRelativePath(path)).toBe(path);
      }),
    );
  });
});
