/**
 * UCenter's XML serialisation (`xml_serialize($arr, 1)` as the UCenter server answers
 * arrays): an ISO-8859-1 declaration (the bytes are passed through as they are, UTF-8 here,
 * as UCenter does for UTF-8 installs), `<root>`, one `<item id="key">` per entry with the
 * value in CDATA, nested arrays indented by one tab per level, CRLF line ends, and runs of
 * control characters replaced by a space.
 */
export type UcValue = string | number | UcValue[] | { [key: string]: UcValue };

const CONTROL = /[\x01-\x08\x0b\x0c\x0e-\x1f]+/g;

function cdata(value: string): string {
  // A literal "]]>" would end the section early: split it across two sections.
  return `<![CDATA[${value.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
}

function items(value: UcValue[] | { [key: string]: UcValue }, level: number): string {
  const space = '\t'.repeat(level);
  let out = '';
  for (const [key, entry] of Object.entries(value)) {
    out +=
      typeof entry === 'object'
        ? // An empty array has no inner line: UCenter writes "\r\n\t", which Discuz! reads back as
          // that string, not empty; this reads back as '', which its empty() checks skip.
          Object.keys(entry).length === 0
          ? `${space}<item id="${key}"></item>\r\n`
          : `${space}<item id="${key}">\r\n${items(entry, level + 1)}${space}</item>\r\n`
        : `${space}<item id="${key}">${cdata(String(entry))}</item>\r\n`;
  }
  return out;
}

export function xmlSerialize(value: UcValue[] | { [key: string]: UcValue }): string {
  const body = `<?xml version="1.0" encoding="ISO-8859-1"?>\r\n<root>\r\n${items(value, 1)}`.replace(CONTROL, ' ');
  return `${body}</root>`;
}
