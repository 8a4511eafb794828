import { decodeBytes, encodeText, type UcCharset } from './charset.js';

// PHP's form encoding as uc_client and api/uc.php use it (urlencode, parse_str), with the
// names and values in an application's charset (charset.ts).

/** PHP's urlencode of `value` in the application's charset: letters, digits and `-_.` stay, a space is `+`. */
export function phpUrlencode(value: string, charset: UcCharset = 'utf-8'): string {
  let out = '';
  for (const byte of encodeText(value, charset)) {
    if ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte === 0x2d || byte === 0x5f || byte === 0x2e) out += String.fromCharCode(byte);
    else if (byte === 0x20) out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** urldecode to bytes: `+` is a space, `%XX` a byte, anything else its own bytes. */
function urldecodeBytes(text: Buffer): Buffer {
  const out: number[] = [];
  const hex = (byte: number | undefined) => (byte === undefined ? NaN : Number.parseInt(String.fromCharCode(byte), 16));
  for (let i = 0; i < text.length; i += 1) {
    const byte = text[i]!;
    if (byte === 0x2b) out.push(0x20);
    else if (byte === 0x25 && !Number.isNaN(hex(text[i + 1])) && !Number.isNaN(hex(text[i + 2]))) {
      out.push(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else out.push(byte);
  }
  return Buffer.from(out);
}

/**
 * PHP's parse_str of a decoded `input` (or a note's query), its values read in the application's
 * charset: names and values by `&` and the first `=`; the last of a repeated name wins.
 */
export function parseQuery(bytes: Buffer, charset: UcCharset = 'utf-8'): Record<string, string> {
  const out = new Map<string, string>();
  let start = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x26, start);
    if (end < 0) end = bytes.length;
    const part = bytes.subarray(start, end);
    start = end + 1;
    if (part.length === 0) continue;
    const eq = part.indexOf(0x3d);
    const name = decodeBytes(urldecodeBytes(eq < 0 ? part : part.subarray(0, eq)), charset);
    if (name) out.set(name, eq < 0 ? '' : decodeBytes(urldecodeBytes(part.subarray(eq + 1)), charset));
  }
  return Object.fromEntries(out);
}

/**
 * PHP's stripslashes: a backslash takes the character after it as it is (`\0` is a NUL), and a
 * lone one at the end goes. UCenter reads every input value so (its `daddslashes($input, 1,
 * TRUE)` strips before it escapes for SQL), and Discuz! sends names as addslashes() made them:
 * `o\'neil@example.com`, or a GBK name whose second byte is 0x5C (淺 is 9C 5C) with a backslash
 * after it.
 */
export function phpStripslashes(value: string): string {
  return value.replace(/\\([\s\S]?)/g, (_match, next: string) => (next === '0' ? '\0' : next));
}

/** What PHP's trim takes off: space, tab, line feed, carriage return, NUL and vertical tab. */
const PHP_TRIMMED = new Set([' ', '\t', '\n', '\r', '\0', '\x0B']);

/**
 * PHP's trim: spaces, tabs, line ends, NUL and vertical tabs at both ends (UCenter trims its input
 * values). Two index walks, linear in the length: the regex it was (`[…]+$` with `g`) tried the
 * trailing class from every position of a run of spaces inside the value, quadratic on a member
 * name an application passes as typed (`a`, 30,000 spaces, `b`: 2.6 s with the hub's event loop
 * stalled, every request of the process waiting; an audit).
 */
export function phpTrim(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && PHP_TRIMMED.has(value[start]!)) start += 1;
  while (end > start && PHP_TRIMMED.has(value[end - 1]!)) end -= 1;
  return value.slice(start, end);
}
