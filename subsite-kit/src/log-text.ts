/**
 * Characters that would let text from a request change how a log line reads: C0 and C1 controls
 * and DEL (CR and LF start a line of the attacker's making), the line and paragraph separators,
 * and the invisible or direction-changing format characters (zero-width ones, the bidirectional
 * marks, embeddings, overrides and isolates, the word joiner, the BOM, the soft hyphen).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u2028-\u202E\u2060-\u206F\uFEFF]/g;

/**
 * Text from a request (a query parameter of the hub's answer: `error`, `error_description`,
 * `iss`), as it may go into one of the kit's log lines: every character above as a visible
 * `\uXXXX` escape, the rest as sent. Anyone can open `/sso/callback` with a sign-in of their own
 * pending, so these values are the visitor's, not the hub's (OWASP ASVS 5 V16, log injection).
 */
export function logText(value: string): string {
  return value.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}
