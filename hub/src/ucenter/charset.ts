/**
 * The character set a UCenter application speaks (its `UC_CHARSET`: Discuz! X ships UTF-8, GBK
 * and BIG5 editions, and a GBK forum was bound to a GBK UCenter). uc_client sends the bytes of
 * its own charset, percent-encoded, inside `input`, and reads UCenter's answers and notes as such
 * bytes: a name in UTF-8 shows as mojibake in a GBK forum (and 张三 sent in GBK is no valid
 * UTF-8 name at all). The hub keeps text as Unicode and speaks each application's charset.
 */
export const UC_CHARSETS = ['utf-8', 'gbk', 'big5'] as const;
export type UcCharset = (typeof UC_CHARSETS)[number];

export function isUcCharset(value: string): value is UcCharset {
  return (UC_CHARSETS as readonly string[]).includes(value);
}

/** Double-byte ranges of a legacy charset: lead bytes and trail-byte ranges, as WHATWG's decoders read them. */
const DOUBLE_BYTE: Record<Exclude<UcCharset, 'utf-8'>, { leads: [number, number]; trails: [number, number][] }> = {
  gbk: { leads: [0x81, 0xfe], trails: [[0x40, 0x7e], [0x80, 0xfe]] },
  // Big5 without the HKSCS leads below 0xA1, which WHATWG's Big5 encoder never writes either.
  big5: { leads: [0xa1, 0xf9], trails: [[0x40, 0x7e], [0xa1, 0xfe]] },
};

const encoders = new Map<UcCharset, Map<number, number>>();

/** Code point → byte pair (high byte << 8 | low), built once from the platform's decoder. */
function encoderFor(charset: Exclude<UcCharset, 'utf-8'>): Map<number, number> {
  let table = encoders.get(charset);
  if (table) return table;
  table = new Map();
  const decoder = new TextDecoder(charset);
  const { leads, trails } = DOUBLE_BYTE[charset];
  const pair = Buffer.alloc(2);
  for (let lead = leads[0]; lead <= leads[1]; lead += 1) {
    for (const [from, to] of trails) {
      for (let trail = from; trail <= to; trail += 1) {
        pair[0] = lead;
        pair[1] = trail;
        const text = decoder.decode(pair);
        const point = text.codePointAt(0)!;
        // One character, and the first pair that gives it (an encoder writes one form).
        if (text.length > 2 || point === 0xfffd || String.fromCodePoint(point) !== text || table.has(point)) continue;
        table.set(point, (lead << 8) | trail);
      }
    }
  }
  encoders.set(charset, table);
  return table;
}

/** `text` in the application's charset; a character it has no bytes for becomes `?`, as iconv's //TRANSLIT would at worst. */
export function encodeText(text: string, charset: UcCharset = 'utf-8'): Buffer {
  if (charset === 'utf-8') return Buffer.from(text, 'utf8');
  const table = encoderFor(charset);
  const bytes: number[] = [];
  for (const char of text) {
    const point = char.codePointAt(0)!;
    if (point < 0x80) {
      bytes.push(point);
      continue;
    }
    const pair = table.get(point);
    if (pair === undefined) bytes.push(0x3f);
    else bytes.push(pair >> 8, pair & 0xff);
  }
  return Buffer.from(bytes);
}

/** Bytes in the application's charset as text (a byte sequence it does not have becomes U+FFFD). */
export function decodeBytes(bytes: Uint8Array, charset: UcCharset = 'utf-8'): string {
  let decoder = decoders.get(charset);
  if (!decoder) decoders.set(charset, (decoder = new TextDecoder(charset)));
  return decoder.decode(bytes);
}

const decoders = new Map<UcCharset, TextDecoder>();
