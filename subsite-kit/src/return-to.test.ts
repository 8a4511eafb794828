import { describe, expect, it } from '@jest/globals';
import { safeReturnTo } from './return-to.js';
import fc from 'fast-check';

describe('safeReturnTo: open-redirect-proof next (RFC 9700 §4.11)', () => {
  it.each([
    ['/forum', '/forum'],
    ['/forum/thread?id=3&x=%2F', '/forum/thread?id=3&x=%2F'],
    ['/a/../b', '/b'],
  ])('keeps same-origin path %s', (input, expected) => {
    expect(safeReturnTo(input)).toBe(expected);
  });

  it.each([
    '//evil.example/',
    '/\\evil.example',
    '\\\\evil.example',
    'https://evil.example/',
    'http:evil.example',
    'javascript:alert(1)',
    'evil.example',
    '/\tevil',
    '/%0a',
    '',
    undefined,
    ['/a', '/b'],
    '/ok#frag',
  ])('rejects %p', (input) => {
    const result = safeReturnTo(input);
    if (input === '/%0a') expect(result).toBe('/%0a'); // encoded, harmless: stays a path
    else if (input === '/ok#frag') expect(result).toBe('/ok'); // fragment dropped
    else expect(result).toBe('/');
  });
});

describe('safeReturnTo: dot segments that normalise to a scheme-relative URL', () => {
  it.each(['/.//evil.example/x', '/%2e//evil.example', '/..//evil.example', '/a/..//evil.example', '/%2E%2E//evil.example'])('%s → /', (input) => {
    expect(safeReturnTo(input)).toBe('/');
  });
});

describe('safeReturnTo: property-based (fast-check)', () => {
  const SITE = 'http://bbs.test';
  // Strings made of the characters that matter for URL parsing, so the interesting cases are common.
  const tricky = fc.array(fc.constantFrom('/', '\\', '.', '%2e', '%2E', '%2f', '%5c', 'evil.example', 'a', '?', '#', ':', '@', '\t', ' '), { maxLength: 12 }).map((parts) => parts.join(''));

  it('whatever the input, the browser resolves the result on the site origin', () => {
    fc.assert(fc.property(fc.oneof(tricky, fc.string(), fc.webUrl(), fc.webPath()), (input) => {
      const result = safeReturnTo(input);
      expect(result.startsWith('/')).toBe(true);
      expect(result.startsWith('//') || result.startsWith('/\\')).toBe(false);
      expect(new URL(result, SITE).origin).toBe(SITE);
    }), { numRuns: 5_000 });
  });

  it('is idempotent: a safe target stays as it is', () => {
    fc.assert(fc.property(fc.oneof(tricky, fc.webPath()), (input) => {
      const once = safeReturnTo(input);
      expect(safeReturnTo(once)).toBe(once);
    }), { numRuns: 2_000 });
  });
});
