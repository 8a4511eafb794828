import { createHash } from 'node:crypto';
import express, { Router, type ErrorRequestHandler, type Request, type Response } from 'express';
import { BusyError, HubError, NotFoundError, msg } from '../errors.js';
import type { Logger } from '../logger.js';
import { clientIp } from '../http/client-ip.js';
import { authcodeDecodeBytes } from './authcode.js';
import { encodeText, type UcCharset } from './charset.js';
import { parseQuery, phpStripslashes, phpTrim } from './php-form.js';
import type { UcenterApp } from './ucenter-app.js';
import type { UcenterAppRegistry } from './ucenter-apps.js';
import { INPUT_MAX_SKEW_SECONDS, type UcenterInputReplay } from './input-replay.js';
import { UcenterSignInProofs } from './synlogin-proofs.js';
import { UC, type UcenterService, type UcInput } from './ucenter-service.js';
import { xmlSerialize, type UcValue } from './xml.js';
import { NO_MESSAGES } from './no-messages.js';
import { NO_FRIENDS } from './no-friends.js';
import { NOT_SERVED, NOT_SERVED_OPERATIONS } from './not-served.js';
import { NO_NAME_ADMIN, NO_NAME_ADMIN_OPERATIONS } from './no-name-admin.js';

/** Where applications point `UC_API`: they POST to `{UC_API}/index.php`. */
export const UCENTER_API_PATH = '/ucenter';

/** The UCenter server version the hub answers as (Discuz! X3.5's UCenter). */
export const UC_SERVER_VERSION = '1.7.0';

/** UCenter's modules: one the hub does not serve answers "Action not found!", any other "Module not found!". */
const UC_MODULES = new Set(['app', 'frame', 'user', 'pm', 'pm_client', 'tag', 'feed', 'friend', 'domain', 'credit', 'mail', 'version', 'seccode']);

type Action = (app: UcenterApp, input: UcInput, req: Request) => Promise<UcValue[] | Record<string, UcValue> | string | number>;

function param(req: Request, name: string): string {
  // UCenter reads $_REQUEST: the body first, then the query string.
  const body = (req.body as Record<string, unknown> | undefined)?.[name];
  const value = typeof body === 'string' ? body : req.query[name];
  return typeof value === 'string' ? value : '';
}

/**
 * UCenter answers 200 with a short text for every refusal; the application shows or logs it.
 * In the application's charset: uc_client's XML parser passes the bytes through as they come.
 */
function answer(res: Response, body: UcValue[] | Record<string, UcValue> | string | number, charset: UcCharset = 'utf-8'): void {
  res.status(200).type(`text/plain; charset=${charset}`).setHeader('Cache-Control', 'no-store');
  res.send(typeof body === 'object' ? xmlSerialize(body, charset) : encodeText(String(body), charset));
}

/**
 * The UCenter client API (`POST {UC_API}/index.php`, `m`, `a`, `inajax`, `release`,
 * `input`, `appid`): the application is known by `appid`; `input` must decode with its
 * key, name the same m/a/appid, carry `agent` = md5 of the request's User-Agent and a
 * `time` within INPUT_MAX_SKEW_SECONDS. Refusals answer as UCenter does.
 */
/**
 * The operations an older uc_client's unbound input is taken for (`insecureOperation`): reads,
 * a password check, sign-out scripts and the private-message no-ops. Not synlogin, register,
 * edit: sent as one of them, another call's input would act for a member it names.
 */
const UNBOUND_SAFE: ReadonlySet<string> = new Set([
  'user/login', 'user/logincheck', 'user/get_user', 'user/check_username', 'user/check_email', 'user/synlogout', 'app/ls',
  'user/delete', 'user/chgusername', // refused: nothing changes
  'version/check', 'user/check_secmobile',
  ...Object.keys(NO_MESSAGES).map((name) => `pm/${name}`),
  ...Object.keys(NO_FRIENDS).map((name) => `friend/${name}`),
  ...NOT_SERVED_OPERATIONS, // answered 0, change nothing
  ...NO_NAME_ADMIN_OPERATIONS, // protected names and merges: not done, none
]);

/**
 * What an older uc_client's refused call is answered, in the words its caller takes as "not done".
 * Discuz! puts synlogin's answer into the page: no scripts. Its registration goes on unless the
 * answer is 0 or below, and on PHP 8 a text is not (it made a local member of "Access denied…");
 * 0 shows "undefined action". Its password page stops only on -1 ("old password wrong"), and
 * on a text it set a local password and said the password was changed.
 */
const UNBOUND_REFUSAL: Readonly<Record<string, string | number>> = {
  'user/synlogin': '',
  'user/register': 0,
  'user/edit': UC.EDIT_REFUSED,
};

/** Input fields that name a member: read through PHP's stripslashes, as UCenter reads them. */
const UNSLASHED_FIELDS = ['username', 'email', 'newusername'] as const;

/** How often (milliseconds) one kind of refusal of one application is logged, at most. */
const REFUSAL_LOG_INTERVAL_MS = 60_000;

export function ucenterClientApi(apps: UcenterAppRegistry, service: UcenterService, replay: UcenterInputReplay, proofs: UcenterSignInProofs, logger?: Logger): Router {
  // Refusals in UCenter's own words reach only the application: the hub's operator is told why,
  // at most once a minute per application and kind.
  const lastLogged = new Map<string, number>();
  const logRefusal = (kind: string, message: string, fields: Record<string, unknown>) => {
    const now = Date.now();
    if (now - (lastLogged.get(kind) ?? 0) < REFUSAL_LOG_INTERVAL_MS) return;
    lastLogged.set(kind, now);
    logger?.warn(message, fields);
  };
  const unboundRefused = (app: UcenterApp, operation: string) =>
    logRefusal(`${app.appId} ${operation}`, `UCenter application ${app.appId}: ${operation} refused: an older uc_client's call (insecureOperation) does not name its operation, and this one acts for a member; upgrade the application's uc_client to one that names it`, { appId: app.appId, operation });
  // An older uc_client at an application not set up for it: every call fails, and the forum shows
  // only "wrong password" (or a PHP error page): the operator is told what to change.
  const unboundAtStrict = (app: UcenterApp, operation: string) =>
    logRefusal(`${app.appId} unbound`, `UCenter application ${app.appId}: calls refused ("Access denied for operation changed"): its uc_client does not name the operation inside its input (Discuz! X3.4 and older, and X3.5 copies whose uc_api_input() takes only $data); register the application with --insecure-operation (the console's "Older uc_client" box) or upgrade its uc_client`, { appId: app.appId, operation });
  // A forum whose clock is off fails every call.
  const clockRefused = (app: UcenterApp, time: number) => {
    const offset = Number.isFinite(time) ? Math.round(time - Date.now() / 1000) : undefined;
    logRefusal(`${app.appId} clock`, `UCenter application ${app.appId}: calls refused, their time is outside ±${INPUT_MAX_SKEW_SECONDS} s of the hub's: check the application server's clock (NTP)`, { appId: app.appId, ...(offset !== undefined ? { offsetSeconds: offset } : {}) });
  };
  // A forum whose UC_KEY or UC_APPID is not the one registered fails every call, and shows only
  // "wrong password" at every sign-in (uc_unserialize('Invalid input') is no answer): the operator
  // is told which. Anyone may send such a call, so the log says so and names no more than the id.
  const unknownApp = (appidText: string) =>
    logRefusal('unknown app', `UCenter: calls refused ("Invalid input"): they name application ${/^\d{1,9}$/.test(appidText) ? appidText : '(not an app id)'}, which is not registered here; check UC_APPID in the application's config against \`ucenter apps list\` (or someone sends such calls)`, /^\d{1,9}$/.test(appidText) ? { appId: Number(appidText) } : {});
  const undecodable = (app: UcenterApp) =>
    logRefusal(`${app.appId} key`, `UCenter application ${app.appId}: calls refused ("Invalid input"): their input does not decode with its key; UC_KEY in the application's config is not its key (shown once, at its registration; \`ucenter apps rotate-key ${app.appId}\` shows a new one to put there), or someone sends calls in its name`, { appId: app.appId });
  // user/synlogin for a member this application did not just sign in or register: no scripts.
  const unprovenSynlogin = (app: UcenterApp) =>
    logRefusal(`${app.appId} synlogin`, `UCenter application ${app.appId}: user/synlogin answered no scripts: it did not sign that member in with their password (user/login) or register them (user/register) in the last ${UcenterSignInProofs.KEEP_SECONDS / 60} minutes; a sign-in that proves no password (a QQ or WeChat login plugin, say) signs the member in at this application only`, { appId: app.appId });
  const actions: Record<string, Record<string, Action>> = {
    user: {
      login: async (app, input, req) => {
        const answer = await service.login(app, input, clientIp(req));
        await proofs.record(app, Number(answer[0]));
        return answer;
      },
      logincheck: (app, input, req) => service.loginCheck(app, input, clientIp(req)),
      get_user: (_app, input) => service.getUser(input),
      check_username: (_app, input) => service.checkUsername(input),
      check_email: (app, input) => service.checkEmailFor(app, input),
      // uc_user_checksecmobile(): the hub keeps no mobile numbers, so none is taken (UCenter's 0).
      // "Action not found!" was "taken" to a caller's `> 0` on PHP 8.
      check_secmobile: async () => 0,
      register: async (app, input) => {
        const uid = await service.register(app, input);
        await proofs.record(app, uid);
        return uid;
      },
      edit: (app, input, req) => service.edit(app, input, clientIp(req)),
      // Only for a member this application has just proven (a sign-in with their password, or a
      // registration): `uid` is the application's word, and its scripts sign that member in at
      // every other application. Before, any application's key signed anyone in everywhere.
      synlogin: async (app, input) => {
        if (!app.synlogin) return '';
        if (await proofs.take(app, /^\d{1,15}$/.test(input.uid ?? '') ? Number(input.uid) : 0)) return service.synlogin(app, input);
        unprovenSynlogin(app);
        return '';
      },
      synlogout: (app) => service.synlogout(app),
      // Accounts are the hub's: one application neither deletes nor renames a member of every
      // other. Answered in UCenter's codes for "not done" rather than "Action not found!", which
      // Discuz!'s callers (`$result < 0`, `!$result`) took as done on PHP 8: its rename card was
      // used up and said "renamed", with the name unchanged everywhere.
      delete: async () => 0,
      chgusername: async () => UC.EDIT_PROTECTED,
      ...Object.fromEntries(Object.entries(NO_NAME_ADMIN).map(([name, answer]) => [name, async () => answer()])),
    },
    app: {
      ls: () => service.appList(),
    },
    // uc_check_version(): Discuz!'s upgrade script (install/update.php) reads its `db` before it
    // runs and stops unless it is above 1.5.2 ("upgrade UCenter first"); on "Action not found!"
    // PHP 8 stopped it with a TypeError. The hub answers as the UCenter it stands in for.
    version: {
      check: async () => ({ file: UC_SERVER_VERSION, db: UC_SERVER_VERSION }),
    },
    pm: Object.fromEntries(Object.entries(NO_MESSAGES).map(([name, answer]) => [name, async (_app: UcenterApp, input: UcInput) => answer(input)])),
    friend: Object.fromEntries(Object.entries(NO_FRIENDS).map(([name, answer]) => [name, async () => answer()])),
  };
  // Credit exchange, mail queue, feeds: "not done" (0), never a text its callers take as done.
  for (const [module, served] of Object.entries(NOT_SERVED)) {
    actions[module] ??= {};
    for (const [name, answer] of Object.entries(served)) actions[module]![name] = async () => answer();
  }

  const router = Router();
  // `UC_API` set with a trailing slash (`…/ucenter/`): uc_client posts to `…/ucenter//index.php`,
  // which UCenter behind Apache or nginx served; so does the hub.
  const apiPaths = [`${UCENTER_API_PATH}/index.php`, `${UCENTER_API_PATH}//index.php`];
  router.use(apiPaths, express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 50 }));
  router.all(apiPaths, async (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'POST') return answer(res, 'Action not found!');
    const m = param(req, 'm');
    const a = param(req, 'a');
    if (!UC_MODULES.has(m)) return answer(res, 'Module not found!');
    // UCenter's message centre, where uc_pm_location() (and uc_pm_send() with instantly=0) send
    // the member's browser: the hub keeps no private messages, so a page that says so in the
    // reader's language and points back, not "Action not found!" as a bare text page.
    if (m === 'pm_client') return next(new NotFoundError(msg('errors:ucenterNoMessages')));
    const action = Object.hasOwn(actions, m) && Object.hasOwn(actions[m]!, a) ? actions[m]![a]! : undefined;
    if (!action) return answer(res, 'Action not found!');

    const appidText = param(req, 'appid');
    const app = /^\d{1,9}$/.test(appidText) ? await apps.find(Number(appidText)) : undefined;
    if (!app) {
      unknownApp(appidText);
      return answer(res, 'Invalid input');
    }
    const bytes = authcodeDecodeBytes(param(req, 'input'), app.key);
    if (!bytes?.length) {
      undecodable(app);
      return answer(res, 'Invalid input');
    }
    // The values are in the application's charset (a GBK forum sends 张三 as D5C5 C8FD).
    const input = parseQuery(bytes, app.charset) as UcInput;
    // Names and addresses as UCenter reads them: without the backslashes Discuz!'s addslashes()
    // put in, trimmed as PHP trims (a uid sign-in typed "1 " is uid 1). Passwords are taken as
    // sent (Discuz! refuses one with a quote or a backslash).
    for (const field of UNSLASHED_FIELDS) if (input[field] !== undefined) input[field] = phpTrim(phpStripslashes(input[field]!));
    const decoded = bytes.toString('latin1');
    // The operation is bound into the encrypted input, so one call cannot be replayed as another;
    // an older uc_client binds none of it, taken only from an application set up for it.
    const unbound = input.m === undefined && input.a === undefined && input.appid === undefined;
    if (!(unbound && app.insecureOperation) && (input.m !== m || input.a !== a || input.appid !== appidText)) {
      if (unbound) unboundAtStrict(app, `${m}/${a}`);
      return answer(res, 'Access denied for operation changed');
    }
    // An unbound input can be sent as another operation by whoever sees it on the way (another
    // call's `uid=N` as user/synlogin would sign member N in at every other application): only
    // operations that change nothing, or need the member's password, take one.
    if (unbound && !UNBOUND_SAFE.has(`${m}/${a}`)) {
      unboundRefused(app, `${m}/${a}`);
      return answer(res, UNBOUND_REFUSAL[`${m}/${a}`] ?? 'Access denied for operation changed', app.charset);
    }
    const agent = createHash('md5').update(req.get('user-agent') ?? '').digest('hex');
    if (input.agent !== agent) return answer(res, 'Access denied for agent changed');
    const time = /^\d{1,12}$/.test(input.time ?? '') ? Number(input.time) : NaN;
    if (!(Math.abs(Math.floor(Date.now() / 1000) - time) <= INPUT_MAX_SKEW_SECONDS)) {
      clockRefused(app, time);
      return answer(res, 'Authorization has expired');
    }
    // Once per call: a captured request sent again is refused as UCenter refuses an old one.
    if (!(await replay.claim(app, param(req, 'input'), decoded))) return answer(res, 'Authorization has expired');
    try {
      return answer(res, await action(app, input, req), app.charset);
    } catch (error) {
      // Too many password checks waiting (register's or edit's new hash): UCenter has no "busy"
      // answer; 0 is what its callers take as "not done", and Retry-After says when to try again.
      if (!(error instanceof BusyError)) throw error;
      res.setHeader('Retry-After', String(error.retryAfterSeconds));
      return answer(res, 0, app.charset);
    }
  });
  // The body parser's refusals (too large, too many fields, a bad encoding) in the API's own
  // plain text with their 4xx status, not the portal's HTML error page.
  router.use(apiPaths, ((error, _req, res, next) => {
    if (error instanceof HubError) return next(error); // the portal's own pages (pm_client)
    const status = (error as { status?: unknown } | undefined)?.status;
    if (typeof status !== 'number' || status < 400 || status >= 500) return next(error);
    res.status(status === 413 || (error as { type?: unknown }).type === 'parameters.too.many' ? 413 : 400).type('text/plain; charset=utf-8').setHeader('Cache-Control', 'no-store');
    res.send('Invalid input');
  }) as ErrorRequestHandler);
  return router;
}
