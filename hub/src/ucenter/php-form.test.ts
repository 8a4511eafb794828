import { phpTrim } from './php-form.js';

describe("PHP's trim (UCenter trims member names and addresses as it reads them)", () => {
  test('takes space, tab, line ends, NUL and vertical tab off both ends, nothing else', () => {
    expect(phpTrim(' \t\n\r\0\x0Balice \t\n\r\0\x0B')).toBe('alice');
    expect(phpTrim('1 ')).toBe('1');
    expect(phpTrim('a b')).toBe('a b');
    expect(phpTrim('\u00a0a\u3000')).toBe('\u00a0a\u3000'); // PHP's trim knows no Unicode spaces
    expect(phpTrim('\f a')).toBe('\f a');
    expect(phpTrim('')).toBe('');
    expect(phpTrim(' \t ')).toBe('');
  });

  test('linear: a long run of spaces inside a name an application passes on does not stall the hub', () => {
    // The input limit (64 kB) lets a name carry about 45,000 spaces; the regex this was took seconds.
    const name = `a${' '.repeat(60_000)}b`;
    const started = performance.now();
    expect(phpTrim(` ${name} `)).toBe(name);
    expect(performance.now() - started).toBeLessThan(200);
  });
});
