/**
 * What a username may be. Letters and digits of any script (a Chinese forum's members are
 * 张三, not zhangsan: `ucenter import` skipped them all, and they could not sign in), with
 * dots, dashes and underscores; 2 to 64 characters, no space, no '@' (a login with one is an
 * e-mail address). Names are compared in their NFKC form, case-folded (the store's index key,
 * `Keys.userByName`), so a full-width ｂｏｂ or a differently composed é is the same name as bob or é.
 *
 * A name must be in that compared form already (ｂｏｂ is refused at creation; typed at sign-in it
 * finds bob), with nothing invisible in it and no pile of combining marks.
 * Letters of two scripts in one name are refused, but for Latin with Chinese, Japanese or Korean
 * (UTS #39's "highly restrictive" level): scripts share look-alike letters (Cyrillic а, Greek ο,
 * Armenian օ, Cherokee Ꭺ), so "аlice" could pass for alice. (A name wholly in one script that
 * looks like a name in another is not caught; that needs Unicode's confusables table.)
 */
const SHAPE = /^(?!\p{M})[\p{L}\p{M}\p{N}._-]{2,64}$/u;
/** Characters that show as nothing (variation selectors, joiners, Hangul fillers): "alice" + one of them looks like alice. */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/u;
/** More combining marks on one letter than any script's spelling needs (Zalgo text). */
const MARK_PILE = /\p{M}{4}/u;
/**
 * A mark that draws nothing a reader can see on its letter (UTS #39 §5.4): a dot above on a
 * soft-dotted letter (i, j and their kin, which have a dot already), or one mark twice in a row.
 * "ali\u0307ce" showed as alice and "admi\u0307n" as admin, and both were other names (an
 * attacker's review registered them through a UCenter application, in Chromium). Read decomposed
 * (NFD), so a mark repeating the one a composed letter holds (é + U+0301) counts too.
 */
const HIDDEN_MARK = /\p{Soft_Dotted}\p{M}*\u0307|(\p{M})\1/u;

/** Scripts told apart (a letter or digit of none of them counts as a script of its own). */
const SCRIPTS = [
  'Latin', 'Greek', 'Cyrillic', 'Armenian', 'Georgian', 'Hebrew', 'Arabic', 'Syriac', 'Thaana', 'Devanagari',
  'Bengali', 'Gurmukhi', 'Gujarati', 'Oriya', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala', 'Thai',
  'Lao', 'Tibetan', 'Myanmar', 'Khmer', 'Mongolian', 'Ethiopic', 'Cherokee', 'Canadian_Aboriginal', 'Lisu',
  'Vai', 'Tifinagh', 'Han', 'Hiragana', 'Katakana', 'Bopomofo', 'Hangul', 'Yi',
].map((name) => ({ name, test: new RegExp(`\\p{Script=${name}}`, 'u') }));
const SHARED = /[\p{Script=Common}\p{Script=Inherited}]/u;
/** The mixes people write (UTS #39's "highly restrictive" level): Latin beside the CJK scripts. */
const MIXES = [new Set(['Latin', 'Han', 'Hiragana', 'Katakana']), new Set(['Latin', 'Han', 'Bopomofo']), new Set(['Latin', 'Han', 'Hangul'])];

/** The scripts of a name's letters and digits (Common and Inherited ones, such as 0-9 and marks, belong to none). */
function scriptsOf(name: string): Set<string> {
  const found = new Set<string>();
  for (const char of name) {
    if (!/[\p{L}\p{N}]/u.test(char) || SHARED.test(char)) continue;
    found.add(SCRIPTS.find((script) => script.test.test(char))?.name ?? `other:${char}`);
  }
  return found;
}

/** Whether `input`, in its stored form ({@link normalUsername}: trimmed, NFC), may be a username. */
export function isValidUsername(input: string): boolean {
  const username = normalUsername(input);
  if (!SHAPE.test(username) || INVISIBLE.test(username) || MARK_PILE.test(username) || HIDDEN_MARK.test(username.normalize('NFD'))) return false;
  // A name is kept in the form it is compared in: no full-width, ligature or mathematical
  // letters (𝐚 is compared as a, so "𝐚рр𝐥е" would hide Latin among Cyrillic from the check below).
  if (username.normalize('NFKC') !== username) return false;
  // One script, or Latin with the CJK scripts: Latin beside Cyrillic, Greek, Armenian or
  // Cherokee letters (а, ο, օ, Ꭺ) or another script's digits (০) passes for a Latin name.
  const scripts = scriptsOf(username);
  return scripts.size <= 1 || MIXES.some((mix) => [...scripts].every((script) => mix.has(script)));
}

/** The form a username is stored in: trimmed, NFC (what the user typed, composed). */
export function normalUsername(username: string): string {
  return username.trim().normalize('NFC');
}
