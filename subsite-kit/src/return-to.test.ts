import { describe, expect, it } from '@jest/globals';
import { safeReturnTo } from './return-to.js';

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
