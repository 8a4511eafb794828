import { readFile } from 'node:fs/promises';
import type { AuditLog } from '../audit/audit-log.js';
import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';
import type { UserRepository } from '../users/user-repository.js';
import { isCrossSiteApp } from './app-site.js';
import { decodeExport, dumpNextUid, importUcMembers, parseUcMembers, UidClashError } from './import.js';
import { checkUcenterApp } from './note-check.js';
import { noteUrl, ucenterAuditDetail } from './ucenter-app.js';
import type { UcenterAppInput, UcenterAppRegistry } from './ucenter-apps.js';

/** Shown wherever a UCenter application is registered (CLI, console, README). */
export const UCENTER_WARNING =
  'UCenter applications speak authcode, an RC4-based cipher with a 64-bit integrity tag: register one only for a site that ' +
  'cannot use OpenID Connect. Its synlogin/synlogout notes are <script> tags on the hub\'s sync page, so the application\'s ' +
  'code runs in the hub\'s origin: a compromised application could act for any user signed in at the hub.';

export const UCENTER_USAGE = `  npm run hub -- ucenter apps add --name NAME --url URL --accept-rc4 [--app-id N] [--type DISCUZX]
        [--note-file api/uc.php] [--internal-url URL] [--charset utf-8|gbk|big5] [--no-synlogin] [--allow-register] [--updatepw] [--insecure-operation]
  npm run hub -- ucenter apps update APPID [--name NAME] [--url URL] [--type T] [--note-file F] [--internal-url URL|""] [--charset C]
        [--synlogin|--no-synlogin] [--allow-register|--no-allow-register] [--updatepw|--no-updatepw] [--insecure-operation|--no-insecure-operation]
        (keeps UC_APPID, UC_KEY and the pending notes)
  npm run hub -- ucenter apps list
  npm run hub -- ucenter apps test APPID   (sends a test note; exit 0 when the handler answers 1)
  npm run hub -- ucenter apps remove|rotate-key APPID
  npm run hub -- ucenter import FILE [--include-deleted] [--charset utf-8|gbk|big5] [--next-uid N]   (uc_members as CSV or a mysqldump, in UTF-8 unless
        --charset names the forum's; refused while hub users hold its uids under other names; a member an admin
        deleted after an earlier import is skipped unless --include-deleted)
  npm run hub -- ucenter legacy-count      (imported md5 hashes not yet replaced)`;

export interface UcenterCliValues {
  name?: string;
  url?: string;
  type?: string;
  'app-id'?: string;
  'note-file'?: string;
  'internal-url'?: string;
  charset?: string;
  'no-synlogin'?: boolean;
  'allow-register'?: boolean;
  'insecure-operation'?: boolean;
  updatepw?: boolean;
  // ucenter apps update: each setting can be turned off as well as on
  synlogin?: boolean;
  'no-allow-register'?: boolean;
  'no-updatepw'?: boolean;
  'no-insecure-operation'?: boolean;
  'accept-rc4'?: boolean;
  'include-deleted'?: boolean;
  'next-uid'?: string;
}

type Print = (line: string) => void;

/** An on/off setting of `apps update`: undefined when neither flag is given; both is a mistake. */
function toggle(on: boolean | undefined, off: boolean | undefined, name: string): boolean | undefined {
  if (on && off) throw new TypeError(`--${name} and --no-${name} both given: pick one`);
  return on ? true : off ? false : undefined;
}

/** What `apps update` was asked to change (only the options given). */
function ucenterAppChange(values: UcenterCliValues): Omit<Partial<UcenterAppInput>, 'appId'> {
  const toggles = {
    synlogin: toggle(values.synlogin, values['no-synlogin'], 'synlogin'),
    allowRegister: toggle(values['allow-register'], values['no-allow-register'], 'allow-register'),
    updatepw: toggle(values.updatepw, values['no-updatepw'], 'updatepw'),
    insecureOperation: toggle(values['insecure-operation'], values['no-insecure-operation'], 'insecure-operation'),
  };
  return {
    ...(values.name !== undefined ? { name: values.name } : {}),
    ...(values.url !== undefined ? { url: values.url } : {}),
    ...(values.type !== undefined ? { type: values.type } : {}),
    ...(values['note-file'] !== undefined ? { noteFile: values['note-file'] } : {}),
    ...(values['internal-url'] !== undefined ? { internalUrl: values['internal-url'] } : {}),
    ...(values.charset !== undefined ? { charset: values.charset } : {}),
    ...Object.fromEntries(Object.entries(toggles).filter(([, value]) => value !== undefined)),
  };
}

/** A name from an imported file, its control and invisible characters escaped (\u001b, not an escape sequence). */
function printable(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, (char) => `\\u${char.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}

/** `ucenter …` commands of the admin CLI. @returns the exit code. */
export async function runUcenterCli(
  args: string[],
  values: UcenterCliValues,
  services: { apps: UcenterAppRegistry; users: UserRepository; store: Store; keys: Keys; audit: AuditLog; timeoutMs?: number; issuer?: string },
  print: Print,
): Promise<number> {
  const { apps, users, audit } = services;
  const [command, sub, target] = args;
  const appId = (value: string | undefined) => {
    if (!value || !/^\d{1,9}$/.test(value)) throw new TypeError(`missing or bad APPID\n\n${UCENTER_USAGE}`);
    return Number(value);
  };
  switch (`${command ?? ''} ${command === 'apps' ? sub ?? '' : ''}`.trim()) {
    case 'apps add': {
      if (!values['accept-rc4']) {
        print(`warning: ${UCENTER_WARNING}`);
        print('error: pass --accept-rc4 to register it anyway');
        return 1;
      }
      if (!values.name || !values.url) throw new TypeError(`missing --name or --url\n\n${UCENTER_USAGE}`);
      const app = await apps.register({
        name: values.name,
        url: values.url,
        ...(values['app-id'] ? { appId: appId(values['app-id']) } : {}),
        ...(values.type ? { type: values.type } : {}),
        ...(values['note-file'] ? { noteFile: values['note-file'] } : {}),
        ...(values['internal-url'] ? { internalUrl: values['internal-url'] } : {}),
        ...(values.charset ? { charset: values.charset } : {}),
        synlogin: !values['no-synlogin'],
        allowRegister: Boolean(values['allow-register']),
        updatepw: Boolean(values.updatepw),
        insecureOperation: Boolean(values['insecure-operation']),
      });
      await audit.record({ event: 'admin.client.register', actor: 'cli', client: `ucenter:${app.appId}`, detail: ucenterAuditDetail(app) });
      print(`warning: ${UCENTER_WARNING}`);
      if (!app.updatepw) print('note: without --updatepw, disabling a user or a new password does not end their sessions at this application (Discuz! X takes updatepw notes safely: it gives the member a random local password); they last until they expire');
      if (services.issuer && isCrossSiteApp(app.url, services.issuer)) print(`note: ${new URL(app.url).host} is another site than the hub's ${new URL(services.issuer).host}: browsers keep no cookie from the sync page's notes there (third-party cookies blocked, and Discuz!'s cookie has no SameSite), so signing in or out at the hub does not reach this application, and a member signed in there stays signed in after signing out at the hub; serve it under the hub's domain (bbs.example.com beside sso.example.com)`);
      print(`registered UCenter application ${app.appId} (${app.name}); notes go to ${noteUrl(app)}`);
      print(`UC_APPID = ${app.appId}`);
      print(`UC_KEY (shown once) = ${app.key}`);
      return 0;
    }
    case 'apps update': {
      const id = appId(target);
      const change = ucenterAppChange(values);
      if (!Object.keys(change).length) throw new TypeError(`nothing to change: name at least one setting\n\n${UCENTER_USAGE}`);
      const { before, app } = await apps.update(id, change);
      const changed = (Object.keys(app) as (keyof typeof app)[]).filter((field) => field !== 'key' && JSON.stringify(app[field]) !== JSON.stringify(before[field]));
      await audit.record({ event: 'admin.client.update', actor: 'cli', client: `ucenter:${app.appId}`, detail: { changed: changed.join(',') } });
      if (services.issuer && app.url !== before.url && isCrossSiteApp(app.url, services.issuer)) print(`note: ${new URL(app.url).host} is another site than the hub's ${new URL(services.issuer).host}: browsers keep no cookie from the sync page's notes there, so signing in or out at the hub does not reach this application`);
      print(changed.length ? `updated UCenter application ${app.appId} (${app.name}): ${changed.join(', ')}; notes go to ${noteUrl(app)}; UC_APPID and UC_KEY are unchanged` : `UCenter application ${app.appId} already has these settings: nothing changed`);
      return 0;
    }
    case 'apps list':
      for (const app of await apps.list()) {
        print(`${app.appId}  ${app.name}  ${app.type}  ${app.url}  note=${app.noteFile}  synlogin=${app.synlogin ? 'on' : 'off'}  updatepw=${app.updatepw ? 'on' : 'off'}  register=${app.allowRegister ? 'on' : 'off'}  charset=${app.charset ?? 'utf-8'}${app.insecureOperation ? '  insecure-operation=on' : ''}`);
      }
      return 0;
    case 'apps test': {
      const check = await checkUcenterApp(await apps.require(appId(target)), services.timeoutMs ?? 5_000);
      await audit.record({ event: 'admin.client.check-sync', actor: 'cli', client: `ucenter:${check.appId}`, detail: { status: check.status } });
      print(`${check.status === 'ok' ? 'OK' : check.status}  ${check.url}: ${check.detail}`);
      return check.status === 'ok' ? 0 : 1;
    }
    case 'apps remove':
      await apps.remove(appId(target));
      await audit.record({ event: 'admin.client.remove', actor: 'cli', client: `ucenter:${target}` });
      print(`removed UCenter application ${target}`);
      return 0;
    case 'apps rotate-key': {
      const app = await apps.rotateKey(appId(target));
      await audit.record({ event: 'admin.client.rotate-secret', actor: 'cli', client: `ucenter:${app.appId}` });
      print(`new UC_KEY (shown once) = ${app.key}; the old key stopped working: put the new one in the application's config now`);
      return 0;
    }
    case 'import': {
      if (!sub) throw new TypeError(`missing FILE\n\n${UCENTER_USAGE}`);
      const text = decodeExport(await readFile(sub), sub, values.charset);
      const members = parseUcMembers(text);
      const nextUid = values['next-uid'] === undefined ? dumpNextUid(text) : Number(values['next-uid']);
      if (nextUid !== undefined && !(Number.isSafeInteger(nextUid) && nextUid >= 1)) throw new TypeError(`--next-uid takes a whole number (UCenter's next uid: uc_members' AUTO_INCREMENT)\n\n${UCENTER_USAGE}`);
      let report: Awaited<ReturnType<typeof importUcMembers>>;
      try {
        report = await importUcMembers(services, members, { includeDeleted: Boolean(values['include-deleted']), ...(nextUid !== undefined ? { nextUid } : {}) });
      } catch (error) {
        if (!(error instanceof UidClashError)) throw error;
        print(`error: ${error.publicMessage}. UCenter applications know a member by uid (synlogin signs in the member with that uid), so each of these hub users would be signed in there as that member:`);
        for (const clash of error.clashes.slice(0, 20)) print(printable(`  uid ${clash.uid}: hub user ${clash.holder}, in the export ${clash.member}`));
        if (error.clashes.length > 20) print(`  … and ${error.clashes.length - 20} more`);
        print('Delete those hub users (users delete NAME) and run the import again, then create them again (users add, admin bootstrap): users made after an import get uids above every imported one. Import before creating anyone at the hub (docs/migrating.md).');
        return 1;
      }
      // Control characters escaped (\u001b as text): a dump's terminal escapes, in a name or in the reason (which may quote an address), never reach the operator's terminal raw.
      for (const skipped of report.skipped) print(printable(`skipped uid ${skipped.uid} (${skipped.username}): ${skipped.reason}`));
      const deleted = report.deleted ? ` (${report.deleted} of them deleted by an admin after an earlier import)` : '';
      print(`imported ${report.imported} users, skipped ${report.skipped.length}${deleted}; ${await users.legacyHashCount()} legacy hashes wait for their owner's next sign-in`);
      return 0;
    }
    case 'legacy-count':
      print(`${await users.legacyHashCount()} users still have an imported UCenter hash`);
      return 0;
    default:
      print(UCENTER_USAGE);
      return 2;
  }
}
