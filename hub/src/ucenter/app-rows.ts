import type { UcenterApp } from './ucenter-app.js';
import type { UcValue } from './xml.js';

/**
 * The application rows UCenter's applications read, built in one place: the `updateapps` note's
 * list ({@link appList}) and the `app/ls` answer ({@link appLsList}) are both rows of UCenter's
 * `uc_applications` table, the second a choice of its columns.
 */

/** The hub in the application list: its address and name. */
export interface HubEntry {
  url: string;
  name: string;
}

/** The hub's entry's app id: UCenter numbers applications from 1, so none has it. */
export const HUB_APP_ID = 0;

/**
 * An application as a row of `uc_applications`: every column but its key (`authkey`), in the
 * table's order. The hub keeps no IP, profile URL, database charset or tag templates: empty.
 */
function appRow(app: UcenterApp): Record<string, UcValue> {
  return {
    appid: app.appId, type: app.type, name: app.name, url: app.url, ip: '', viewprourl: '', apifilename: app.noteFile.split('/').pop() ?? 'uc.php',
    charset: app.charset ?? '', dbcharset: '', synlogin: app.synlogin ? 1 : 0, recvnote: 1, extra: '', tagtemplates: '', allowips: '',
  };
}

/** The hub as a row of the same form: type OTHER, no note file, never sent notes, always in synlogin. */
function hubRow(hub: HubEntry): Record<string, UcValue> {
  return {
    appid: HUB_APP_ID, type: 'OTHER', name: hub.name, url: hub.url, ip: '', viewprourl: '', apifilename: '',
    charset: '', dbcharset: '', synlogin: 1, recvnote: 0, extra: '', tagtemplates: '', allowips: '',
  };
}

/** The columns UCenter's `app/ls` answers (control/app.php `onls`: its SELECT), in that order. */
const APP_LS_COLUMNS = ['appid', 'type', 'name', 'url', 'tagtemplates', 'viewprourl', 'synlogin'] as const;

/**
 * The application list as uc_client caches it (`$_CACHE['apps']`), keyed by app id: the body of
 * the `updateapps` note. No `UC_API` entry: Discuz! would rewrite its own UC_API setting with it.
 *
 * The hub is in it too (app id 0, type OTHER, no note file): uc_client asks for
 * `user/synlogin` and `user/synlogout` scripts only while its cached list holds more than one
 * entry, so a forum that was the hub's only UCenter application never asked, and signing out
 * at the forum signed the browser out of none of the hub's subsites. An application that
 * lists the others as links (some do) links to the hub.
 */
export function appList(apps: UcenterApp[], hub: HubEntry): Record<string, UcValue> {
  const out: Record<string, UcValue> = { [String(HUB_APP_ID)]: hubRow(hub) };
  for (const app of apps) out[String(app.appId)] = appRow(app);
  return out;
}

/**
 * `app/ls`: the hub's entry and every application by app id, with the columns UCenter answers.
 * The hub is listed as in `updateapps`: Discuz! X's setting cache turns its `allowsynlogin` on
 * only while this list holds another application with synlogin, and its sign-in and sign-out
 * call `user/synlogin` / `user/synlogout` only under that setting. Without the hub's entry a
 * forum that was the hub's only UCenter application never asked, and signing out there signed
 * the browser out of none of the hub's subsites.
 */
export function appLsList(apps: UcenterApp[], hub: HubEntry): Record<string, UcValue> {
  const columns = (row: Record<string, UcValue>) => Object.fromEntries(APP_LS_COLUMNS.map((column) => [column, row[column]!]));
  const out: Record<string, UcValue> = { [String(HUB_APP_ID)]: columns(hubRow(hub)) };
  for (const app of apps) out[String(app.appId)] = columns(appRow(app));
  return out;
}

/** The hub's entry in both lists: its issuer, under the name applications show. */
export function hubEntry(issuer: string): HubEntry {
  return { url: issuer, name: 'sso-hub' };
}
