/**
 * What a username may be. Letters and digits of any script (a Chinese forum's members are
 * 张三, not zhangsan: `ucenter import` skipped them all, and they could not sign in), with
 * dots, dashes and underscores; 2 to 64 characters, no space, no '@' (a login with one is an
 * e-mail address). Names are compared in their NFKC form, case-folded (the store's index key,
 * `Keys.userByName`), so a full-width ｂｏｂ or a differently composed é is the same name as bob or é.
 *
 * Letters of Latin, Cyrillic and Greek in one name are refused: those scripts share look-alike
 * letters (Cyrillic а, Greek ο), so "аlice" could pass for alice. (A name wholly in one of
 * them that looks like a name in another is not caught; that needs Unicode's confusables table.)
 */
const SHAPE = /^(?!\p{M})[\p{L}\p{M}\p{N}._-]{2,64}$/u;
const LOOK_ALIKE_SCRIPTS = [/\p{Script=Latin}/u, /\p{Script=Cyrillic}/u, /\p{Script=Greek}/u];

export function isValidUsername(username: string): boolean {
  if (!SHAPE.test(username)) return false;
  return LOOK_ALIKE_SCRIPTS.filter((script) => script.test(username)).length <= 1;
}

/** The form a username is stored in: trimmed, NFC (what the user typed, composed). */
export function normalUsername(username: string): string {
  return username.trim().normalize('NFC');
}
