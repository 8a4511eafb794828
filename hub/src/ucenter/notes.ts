import { authcodeEncode } from './authcode.js';
import { phpUrlencode } from './php-form.js';
import { noteUrl, type UcenterApp } from './ucenter-app.js';

/**
 * Notes from the hub to a UCenter application: `GET {app}/api/uc.php?time=T&code=C` where
 * C = authcode("action=…&…&time=T", ENCODE, app key). The hub writes authcode's own expiry
 * field NOTE_TTL_SECONDS ahead, but authcode's checksum does not cover that field: whoever holds
 * a note URL can rewrite it (XOR), so what holds at the application is the note's `time`
 * (Discuz!'s api/uc.php allows an hour). A note never carries a password or a hash: synlogin
 * names the uid and username only.
 */
export const NOTE_TTL_SECONDS = 60;

export type NoteAction = 'synlogin' | 'synlogout' | 'deleteuser' | 'test' | 'updatepw' | 'renameuser' | 'updateapps';

/**
 * The note's URL with its fresh code. `internal`: the address the hub itself calls. Values are
 * PHP-urlencoded in the application's charset (its parse_str gives it those bytes).
 */
export function noteRequestUrl(
  app: UcenterApp,
  action: NoteAction,
  args: Record<string, string | number> = {},
  /** `expirySeconds`: authcode's expiry, NOTE_TTL_SECONDS unless given (0: none, as UCenter's own notes). */
  options: { internal?: boolean; now?: number; expirySeconds?: number } = {},
): string {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const query = Object.entries({ action, ...args, time: now })
    .map(([key, value]) => `${phpUrlencode(key)}=${phpUrlencode(String(value), app.charset)}`)
    .join('&');
  const code = authcodeEncode(query, app.key, { now, expirySeconds: options.expirySeconds ?? NOTE_TTL_SECONDS });
  return `${noteUrl(app, options.internal)}?time=${now}&code=${phpUrlencode(code)}`;
}

/**
 * UCenter's script tag for a sync note, as the seed's sync page shows it. Discuz! reads the
 * `src` back out of the answer with a regular expression and loads it without HTML-decoding,
 * so `&` stays as it is (`&amp;` would break it); a character that could end the attribute or
 * the tag (none should be there: the values are URL-encoded, the base URL's host checked and
 * its path normalised) is percent-encoded, which leaves the URL's meaning alone.
 */
function attributeSafe(url: string): string {
  return url.replace(/["'<>`\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

export function scriptTag(src: string): string {
  return `<script type="text/javascript" src="${attributeSafe(src)}" reload="1"></script>`;
}
