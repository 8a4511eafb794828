/**
 * Characters an audit entry never keeps as themselves (OWASP ASVS 5 V16, log injection): C0
 * controls (a typed login with CR LF forges a line in a text export or a terminal), DEL and the
 * C1 controls (U+0085 is a line break too), the Unicode line and paragraph separators, and the
 * bidirectional marks, embeddings, overrides and isolates (U+061C, U+200E, U+200F, U+202A–U+202E,
 * U+2066–U+2069): a login typed as `admin` + U+202E + `gnp.exe` shows as another text in the
 * console, an override left open reorders what follows it on the row.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Whether `text` holds a character {@link neutralise} would replace (a cheap test first). */
export function hasUnsafeCharacter(text: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(text);
  UNSAFE.lastIndex = 0;
  return found;
}

/**
 * `text` with each of those characters as a visible `\uXXXX` escape (lower-case hex), the rest
 * as it was: `admin\u202egnp.exe`, `bob\u000d\u000alogin.success`. A backslash typed as such is
 * kept: the escape shows what was typed, and nothing it contains acts on the display.
 */
export function neutralise(text: string): string {
  if (!hasUnsafeCharacter(text)) return text;
  return text.replace(UNSAFE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
