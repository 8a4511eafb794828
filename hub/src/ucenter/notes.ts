import { authcodeEncode } from './authcode.js';
import { noteUrl, type UcenterApp } from './ucenter-app.js';

/**
 * Notes from the hub to a UCenter application: `GET {app}/api/uc.php?time=T&code=C` where
 * C = authcode("action=…&…&time=T", ENCODE, app key). The hub's codes expire within
 * NOTE_TTL_SECONDS (authcode's own expiry field; UCenter itself allows an hour), and a note
 * never carries a password or a hash: synlogin names the uid and username only.
 */
export const NOTE_TTL_SECONDS = 60;

export type NoteAction = 'synlogin' | 'synlogout' | 'deleteuser' | 'test' | 'updatepw' | 'renameuser' | 'updateapps';

/** PHP's urlencode (spaces as `+`), which the application's parse_str undoes. */
function phpUrlencode(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** The note's URL with its fresh code. `internal`: the address the hub itself calls. */
export function noteRequestUrl(
  app: UcenterApp,
  action: NoteAction,
  args: Record<string, string | number> = {},
  options: { internal?: boolean; now?: number } = {},
): string {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const query = Object.entries({ action, ...args, time: now })
    .map(([key, value]) => `${phpUrlencode(key)}=${phpUrlencode(String(value))}`)
    .join('&');
  const code = authcodeEncode(query, app.key, { now, expirySeconds: NOTE_TTL_SECONDS });
  return `${noteUrl(app, options.internal)}?time=${now}&code=${phpUrlencode(code)}`;
}

/**
 * UCenter's script tag for a sync note, as the seed's sync page shows it. The URL goes in
 * as it is (its values are URL-encoded and the base URL normalised, so it holds no quote or
 * angle bracket): Discuz! reads the `src` back out of the answer with a regular expression
 * and loads it without HTML-decoding, so `&amp;` would break it.
 */
export function scriptTag(src: string): string {
  return `<script type="text/javascript" src="${src}" reload="1"></script>`;
}
