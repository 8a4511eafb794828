/**
 * What a username may be. Letters and digits of any script (a Chinese forum's members are
 * 张三, not zhangsan: `ucenter import` skipped them all, and they could not sign in), with
 * dots, dashes and underscores; 2 to 64 characters, no space, no '@' (a login with one is an
 * e-mail address). Names are compared in their NFKC form, case-folded (the store's index key,
 * `Keys.userByName`), so a full-width ｂｏｂ or a differently composed é is the same name as bob or é.
 *
 * A name must be in that compared form already (ｂｏｂ is refused at creation; typed at sign-in it
 * finds bob), with nothing invisible in it and no pile of combining marks.
 * Letters of Latin, Cyrillic and Greek in one name are refused: those scripts share look-alike
 * letters (Cyrillic а, Greek ο), so "аlice" could pass for alice. (A name wholly in one of
 * them that looks like a name in another is not caught; that needs Unicode's confusables table.)
 */
const SHAPE = /^(?!\p{M})[\p{L}\p{M}\p{N}._-]{2,64}$/u;
const LOOK_ALIKE_SCRIPTS = [/\p{Script=Latin}/u, /\p{Script=Cyrillic}/u, /\p{Script=Greek}/u];
/** Characters that show as nothing (variation selectors, joiners, Hangul fillers): "alice" + one of them looks like alice. */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\u115F\u1160\u3164\uFFA0]/u;
/** More combining marks on one letter than any script's spelling needs (Zalgo text). */
const MARK_PILE = /\p{M}{4}/u;

export function isValidUsername(username: string): boolean {
  if (!SHAPE.test(username) || INVISIBLE.test(username) || MARK_PILE.test(username)) return false;
  // A name is kept in the form it is compared in: no full-width, ligature or mathematical
  // letters (𝐚 is compared as a, so "𝐚рр𝐥е" would hide Latin among Cyrillic from the check below).
  if (username.normalize('NFKC') !== username) return false;
  return LOOK_ALIKE_SCRIPTS.filter((script) => script.test(username)).length <= 1;
}

/** The form a username is stored in: trimmed, NFC (what the user typed, composed). */
export function normalUsername(username: string): string {
  return username.trim().normalize('NFC');
}
