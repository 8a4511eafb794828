import { encodeText, type UcCharset } from './charset.js';

/**
 * UCenter's XML serialisation (`xml_serialize($arr, 1)` as the UCenter server answers
 * arrays): an ISO-8859-1 declaration (the bytes are passed through as they are, in the
 * application's charset, as UCenter does), `<root>`, one `<item id="key">` per entry with the
 * value in CDATA, nested arrays indented by one tab per level, CRLF line ends, and runs of
 * control characters replaced by a space.
 */
export type UcValue = string | number | UcValue[] | { [key: string]: UcValue };

const CONTROL = /[\x01-\x08\x0b\x0c\x0e-\x1f]+/g;

/**
 * A value in CDATA, as the application's bytes (one latin1 character per byte: uc_client's
 * parser reads ISO-8859-1). A "]]>" in those bytes would end the section early: it is split
 * across two sections. Split in the bytes, not the text: in GBK and BIG5 a character's second
 * byte may be `]` (癩 is B0 5D), so 癩]> has no "]]>" as text and one as bytes, and what came
 * after it (an address chosen by its owner) was read as markup (a review).
 */
function cdata(value: string, charset: UcCharset): string {
  const bytes = encodeText(value, charset).toString('latin1');
  return `<![CDATA[${bytes.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
}

function items(value: UcValue[] | { [key: string]: UcValue }, level: number, charset: UcCharset): string {
  const space = '\t'.repeat(level);
  let out = '';
  for (const [key, entry] of Object.entries(value)) {
    out +=
      typeof entry === 'object'
        ? // An empty array has no inner line: UCenter writes "\r\n\t", which Discuz! reads back as
          // that string, not empty; this reads back as '', which its empty() checks skip.
          Object.keys(entry).length === 0
          ? `${space}<item id="${key}"></item>\r\n`
          : `${space}<item id="${key}">\r\n${items(entry, level + 1, charset)}${space}</item>\r\n`
        : `${space}<item id="${key}">${cdata(String(entry), charset)}</item>\r\n`;
  }
  return out;
}

/** The document as the application's bytes (`charset`: its UC_CHARSET). */
export function xmlSerialize(value: UcValue[] | { [key: string]: UcValue }, charset: UcCharset = 'utf-8'): Buffer {
  // Keys are the hub's own (indexes, field names, app ids): ASCII.
  const body = `<?xml version="1.0" encoding="ISO-8859-1"?>\r\n<root>\r\n${items(value, 1, charset)}`.replace(CONTROL, ' ');
  return Buffer.from(`${body}</root>`, 'latin1');
}
