/**
 * Characters an audit entry never keeps as themselves (OWASP ASVS 5 V16, log injection): every
 * control (`Cc`: C0, DEL, C1; a typed login with CR LF forges a line in a text export or a
 * terminal, U+0085 is a line break too), the line and paragraph separators (`Zl`, `Zp`), every
 * format character (`Cf`) and any lone surrogate (`Cs`). `Cf` holds the bidirectional marks,
 * embeddings, overrides and isolates (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069: a
 * login typed as `admin` + U+202E + `gnp.exe` shows as another text, an override left open
 * reorders what follows it on the row) and the invisible ones (U+200B zero-width space, U+2060,
 * the BOM, the soft hyphen, tag letters U+E0000–U+E007F): `alice` + U+200B shows as `alice`, the
 * very spoofing users/user.ts refuses in display names. A lone surrogate is half an emoji cut
 * off, or typed on purpose. Valid usernames hold none of these (users/username.ts refuses default
 * ignorables): escaping the zero-width joiners too garbles no account's name.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|\p{Cs}/gu;

/** Whether `text` holds a character {@link neutralise} would replace (a cheap test first). */
export function hasUnsafeCharacter(text: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(text);
  UNSAFE.lastIndex = 0;
  return found;
}

/**
 * `text` with each of those characters as a visible escape (lower-case hex): `\uXXXX`, or
 * `\u{XXXXX}` past U+FFFF (`admin\u202egnp.exe`, `bob\u000d\u000alogin.success`,
 * `alice\u{e0041}`), the rest as it was. A backslash typed as such is kept: the escape shows what
 * was typed, and nothing it contains acts on the display.
 */
export function neutralise(text: string): string {
  if (!hasUnsafeCharacter(text)) return text;
  return text.replace(UNSAFE, (char) => {
    const code = char.codePointAt(0)!;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
