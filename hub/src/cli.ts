import { randomBytes } from 'node:crypto';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { distance } from 'fastest-levenshtein';
import { ConfigError, loadConfig, misspelledVariables } from './config.js';
import { HubError, ValidationError } from './errors.js';
import { createDomainServices, type DomainServices } from './domain-services.js';
import { createLogger } from './logger.js';
import { createProvider } from './oidc/provider.js';
import { applySeed, loadSeedFile, secretLines } from './seed.js';
import { hubSettingsFor, publishedPinsSigningKeys, publishedSigningAlgs, readPublishedSettings } from './published-settings.js';
import { describeOtherDatabases, otherDatabasesWithHubs, otherPublishedPrefixes, selectedDatabase } from './other-prefixes.js';
import { replicaMessage, replicaOf } from './store/replica-check.js';
import { Keys } from './store/keys.js';
import { isSigningAlg, newSigningKeys, SIGNING_ALGS } from './secrets/secrets.js';
import { rotateSigningKeys } from './secrets/signing-keys.js';
import { ID_TOKEN_TTL } from './oidc/provider.js';
import { describeRedis, openStore, storeStoppedMessage, unreachableRedisMessage } from './store/index.js';
import { StoreUnavailableError } from './store/store.js';
import { runUcenterCli, UCENTER_USAGE } from './ucenter/ucenter-cli.js';
import { CLIENTS_USAGE, runClientsCli } from './clients/clients-cli.js';
import { AccountLifecycle } from './users/account-lifecycle.js';
import { setAdminRole } from './users/admin-role.js';
import { bootstrapAdmin } from './users/bootstrap-admin.js';
import { OwnerNotices } from './users/owner-notices.js';
import { ADMIN_ROLE, type PublicUser } from './users/user.js';
import { removalTime, UnverifiedAccounts } from './signup/unverified-accounts.js';
import { parseInviteDays } from './signup/invites.js';
import { resetTwoStep } from './two-step/reset-two-step.js';
import { Views } from './views/views.js';

const USAGE = `sso-hub admin CLI (uses REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS; KEY_PREFIX and the other hub variables apply)
  A variable that looks like a mistyped hub setting (KEY_PREFX, REDIS_URI) is refused. So is a KEY_PREFIX no hub has
  published its settings under while hubs on the same Redis have under others, or a REDIS_URL database (/N) none has
  published in while hubs have in another of the server's: --new-prefix runs it all the same (for a hub not started yet).

  npm run hub -- admin bootstrap [--username admin] [--email EMAIL]   (first admin, random password shown once)
  npm run hub -- users add --username NAME --email EMAIL [--name "Full Name"] --password PASSWORD|- [--role admin]
                  (--password -: the first line of standard input, a pipe or a file, kept out of the shell's history and of ps)
  npm run hub -- users list   (an unverified sign-up with the date it is removed unless verified)
  npm run hub -- users disable|enable|delete LOGIN
  npm run hub -- users pending-deletions   (deletions cut off part-way, which the running hub finishes on its own)
  npm run hub -- users reset-two-step LOGIN   (turns the user's two-step sign-in off; audited)
  npm run hub -- users grant-admin|revoke-admin LOGIN   (gives or takes the admin role; the last enabled admin keeps it)
  npm run hub -- users expire-older-unverified   (unverified sign-ups a release before the removal made: removed
                  HUB_UNVERIFIED_ACCOUNT_DAYS from now unless verified; only if no hub ever ran with HUB_REQUIRE_VERIFIED_EMAIL=false)
${CLIENTS_USAGE}
  npm run hub -- keys rotate [--alg RS256|ES256|EdDSA ...]   (all three kinds unless --alg)
  npm run hub -- invites create [--email EMAIL] [--days 7]   (HUB_SIGNUP=invite: a single-use sign-up link, shown once)
  npm run hub -- seed FILE
${UCENTER_USAGE}
`;

type Print = (line: string) => void;

/**
 * A password given as `--password -`: the first line of standard input (a pipe or a file), so it
 * stays out of the shell's history and of `ps`, which show a command line to other users. Not
 * from a terminal, which would show it as it is typed.
 */
async function passwordFrom(value: string | undefined, input: NodeJS.ReadableStream): Promise<string | undefined> {
  if (value !== '-') return value;
  if ((input as { isTTY?: boolean }).isTTY) throw new TypeError('--password - reads the password from a pipe or a file (… --password - < file), not from the terminal, which would show it');
  const chunks: Buffer[] = [];
  for await (const chunk of input) {
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    if (chunks[chunks.length - 1]!.includes(0x0a)) break;
  }
  // Decoded once, whole: a multi-byte character split across chunks stays whole.
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/, 1)[0];
}


/** Runs one admin command; returns the process exit code. Secrets are printed once, at creation. */
/** What became of a mail to an account's owner, as a line for the operator (never the address's content, never the mail). */
async function mailOwner(send: () => Promise<'sent' | 'off'>): Promise<string> {
  try {
    return (await send()) === 'sent'
      ? 'the owner was mailed that their two-step sign-in was turned off'
      : 'warning: the owner was not mailed: this command has no mail settings (set SMTP_URL as the hub has it to have the owner told)';
  } catch (error) {
    return `warning: the owner was not mailed: the mail server refused (${(error as Error).name}); the reset stands`;
  }
}

/** The CLI's options (every command's: parseArgs is strict, so an unknown one is refused). */
const CLI_OPTIONS = {
  username: { type: 'string' },
  email: { type: 'string' },
  name: { type: 'string' },
  password: { type: 'string' },
  role: { type: 'string', multiple: true },
  id: { type: 'string' },
  'redirect-uri': { type: 'string', multiple: true },
  'post-logout-uri': { type: 'string', multiple: true },
  grant: { type: 'string', multiple: true },
  public: { type: 'boolean' },
  auth: { type: 'string' },
  trusted: { type: 'boolean' },
  untrusted: { type: 'boolean' },
  pkce: { type: 'boolean' },
  'no-pkce': { type: 'boolean' },
  'sync-login-url': { type: 'string' },
  'sync-logout-url': { type: 'string' },
  transport: { type: 'string' },
  'userdelete-url': { type: 'string' },
  'backchannel-uri': { type: 'string' },
  cas: { type: 'boolean' },
  'no-cas': { type: 'boolean' },
  'secret-in-query': { type: 'boolean' },
  'allow-http': { type: 'boolean' },
  'no-allow-http': { type: 'boolean' },
  'id-token-alg': { type: 'string' },
  alg: { type: 'string', multiple: true },
  'base-url': { type: 'string' },
  overlap: { type: 'string' },
  'end-overlap': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  // ucenter apps add
  url: { type: 'string' },
  type: { type: 'string' },
  'app-id': { type: 'string' },
  'note-file': { type: 'string' },
  'internal-url': { type: 'string' },
  charset: { type: 'string' },
  'no-synlogin': { type: 'boolean' },
  'allow-register': { type: 'boolean' },
  'insecure-operation': { type: 'boolean' },
  updatepw: { type: 'boolean' },
  'accept-rc4': { type: 'boolean' },
  // ucenter apps update
  synlogin: { type: 'boolean' },
  'no-allow-register': { type: 'boolean' },
  'no-updatepw': { type: 'boolean' },
  'no-insecure-operation': { type: 'boolean' },
  // ucenter import
  'include-deleted': { type: 'boolean' },
  'next-uid': { type: 'string' },
  // invites create
  days: { type: 'string' },
  // a KEY_PREFIX no hub has published under, on purpose (a hub not started yet)
  'new-prefix': { type: 'boolean' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/**
 * parseArgs, with an unknown option said as a likely typo of a known one. Node's own words
 * ("Unknown option '--redirect_uri'. To specify a positional argument starting with a '-', place it
 * at the end of the command after '--'") sent an operator to positional arguments (a review).
 */
function parseCliArgs(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: CLI_OPTIONS });
  } catch (error) {
    const unknown = (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /Unknown option '(-{1,2})([^']+)'/.exec((error as Error).message) : null;
    if (!unknown) throw error;
    const given = unknown[2]!;
    const normalized = given.toLowerCase().replace(/_/g, '-');
    const [closest] = Object.keys(CLI_OPTIONS).map((name) => ({ name, far: distance(normalized, name) })).sort((a, b) => a.far - b.far);
    const guess = closest && closest.far <= Math.max(2, Math.floor(given.length / 4)) ? `: did you mean --${closest.name}?` : '';
    throw new TypeError(`unknown option ${unknown[1]}${given}${guess} (npm run hub -- --help lists the commands and their options)`);
  }
}

export async function runCli(argv: string[], env: Record<string, string | undefined> = process.env, print: Print = console.log, warn: Print = console.error, input: NodeJS.ReadableStream = process.stdin): Promise<number> {
  const { positionals, values } = parseCliArgs(argv);
  const [group, command, target] = positionals;
  if (values.help || !group) {
    print(USAGE);
    return values.help ? 0 : 2;
  }
  // A mistyped variable (KEY_PREFX, REDIS_URI) would leave its default in place: this run would
  // write under another KEY_PREFIX or find no Redis, and report success. The hub warns at start;
  // a command that writes at once is refused instead.
  const misspelled = misspelledVariables(env);
  if (misspelled.length) {
    throw new ConfigError(`refused: ${misspelled.map((miss) => `${miss.given} is not a setting of the hub: did you mean ${miss.known}?`).join('; ')} `
      + `(this command would run without it, on the default). Set it by its right name, and unset the other for this command (env -u ${misspelled[0]!.given} npm run hub -- …), or list it in HUB_NOT_SETTINGS if it belongs to something else`);
  }
  let config = loadConfig({ LOG_LEVEL: 'error', ...env });
  if (!config.redis) {
    // The embedded store lives inside the hub process (npm start): a CLI run would only change
    // a throw-away store of its own and report success for nothing.
    // Its console needs an admin to sign in with: the first one of such a hub comes from its seed.
    const instead = group === 'admin' && command === 'bootstrap'
      ? 'the first admin of a hub on the embedded store comes from HUB_SEED_FILE (a user with roles: [admin]) at its start, or run it with REDIS_URL and bootstrap here.'
      : 'use its admin console (/admin), or run it with REDIS_URL.';
    throw new TypeError('no Redis is configured (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS): the CLI works on the hub\'s Redis, with the hub\'s KEY_PREFIX. '
      + `A hub on the embedded store (npm start's demo) cannot be reached from here: ${instead}`);
  }
  const redisTarget = config.redis;
  const description = describeRedis(redisTarget, 0);
  const where = `Redis ${String(description.address ?? description.nodes ?? description.sentinels)} (${String(description.redis)})`;
  let store: Awaited<ReturnType<typeof openStore>>;
  try {
    store = await openStore(config);
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw new TypeError(await unreachableRedisMessage(redisTarget, error.cause));
    throw error;
  }
  try {
    // A replica answers reads and refuses every write (READONLY): said before any command runs.
    const primary = await replicaOf(store);
    if (primary) throw new ConfigError(replicaMessage(where, primary));
    // The running hub's issuer, sign-up mode and key timing, not this environment's guesses
    // (the README says REDIS_URL and KEY_PREFIX are enough next to a running hub).
    const published = await readPublishedSettings(store, new Keys(config.KEY_PREFIX));
    const settingsUsed = HUB_SETTINGS_USED[`${group} ${command ?? ''}`];
    const hubSettingsUsed = settingsUsed !== undefined;
    if (published) {
      const merged = hubSettingsFor(config, { LOG_LEVEL: 'error', ...env }, published);
      config = merged.config;
      // Only the settings this command goes by (a review: `clients rotate-sync-key` named the key timing).
      const named = merged.differed.filter((name) => settingsUsed?.includes(name));
      if (named.length) print(`note: using the running hub's ${named.join(', ')} (published in the store), not this environment's`);
    }
    // A hub that runs on this Redis under another KEY_PREFIX would never see what this command
    // writes: one under a prefix no hub has published is refused, naming those found, unless the
    // operator says this prefix is for a hub not started yet (--new-prefix).
    const others = published || values['new-prefix'] ? [] : await otherPublishedPrefixes(store, new Keys(config.KEY_PREFIX));
    if (others.length) {
      throw new ConfigError(`no hub has published its settings under KEY_PREFIX ${JSON.stringify(config.KEY_PREFIX)} on ${where}, but hubs have under ${others.map((prefix) => JSON.stringify(prefix)).join(', ')}: `
        + 'set KEY_PREFIX as the running hub has it (a typo?); if this KEY_PREFIX is for a hub not started yet, run the command again with --new-prefix');
    }
    // The same mistake in REDIS_URL's database (`/5` next to hubs on `/0`): refused alike.
    const otherDatabases = published || values['new-prefix'] ? [] : await otherDatabasesWithHubs(store, new Keys(config.KEY_PREFIX));
    if (otherDatabases.length) {
      const db = selectedDatabase(store);
      throw new ConfigError(`no hub has published its settings in database ${db} of ${where} (the /${db} of REDIS_URL, or none: 0), but hubs have in ${describeOtherDatabases(otherDatabases)}: `
        + 'write REDIS_URL with their /N (no path is database 0); if this database is for a hub not started yet, run the command again with --new-prefix');
    }
    if (!published && hubSettingsUsed) {
      print(`warning: no hub has published its settings under KEY_PREFIX ${JSON.stringify(config.KEY_PREFIX)} (none has started with this version): using this environment's HUB_ISSUER (${config.HUB_ISSUER}) and key timing; set them as the hub has them`);
    } else if (!published) {
      // Every hub publishes its settings at start: none under this prefix (and, without
      // --new-prefix, none under any other) means no hub of this version has run on this Redis yet.
      warn(`warning: no hub has published its settings under KEY_PREFIX ${JSON.stringify(config.KEY_PREFIX)} on ${where}${values['new-prefix'] ? ' (--new-prefix)' : ', nor under any other'}: a hub started later must have this KEY_PREFIX to see what this command does`);
    }
    // Domain services only: the CLI never builds the running hub's wiring, so it never
    // writes what the hub owns (its portal client, its keys).
    const services = createDomainServices(config, store, createLogger('error'));
    const { users, clients, keys, integration } = services;
    // A running hub that pins its keys (HUB_JWKS) signs only with their kinds: a client registered
    // here for another would answer every token request with invalid_client_metadata.
    const pinnedAlgs = config.HUB_JWKS ? undefined : await publishedSigningAlgs(store, keys);
    if (pinnedAlgs) clients.limitSigningAlgs(pinnedAlgs);
    const cli = { actor: 'cli' };
    const need = (value: string | undefined, what: string): string => {
      if (!value) throw new TypeError(`missing ${what}\n\n${USAGE}`);
      return value;
    };
    if (group === 'clients') {
      return await runClientsCli(command, target, values, { clients, integration, audit: services.audit, syncKeyOverlapSeconds: config.SYNC_KEY_OVERLAP_SECONDS }, print);
    }
    if (group === 'ucenter') {
      return await runUcenterCli(positionals.slice(1), values, { apps: services.ucenterApps, users, store, keys, audit: services.audit, timeoutMs: services.config.DELIVERY_TIMEOUT_MS, issuer: services.config.HUB_ISSUER }, print);
    }
    switch (group === 'seed' ? 'seed' : `${group} ${command ?? ''}`.trim()) {
      case 'admin bootstrap': {
        const created = await bootstrapAdmin(users, { ...(values.username ? { username: values.username } : {}), ...(values.email ? { email: values.email } : {}) });
        await services.audit.record({ event: 'admin.user.create', ...cli, subject: created.user.id, detail: { bootstrap: true } });
        print(`created admin ${created.user.username} (${created.user.id})`);
        print(`one-time password (shown once; sign in at /login and change it): ${created.password}`);
        break;
      }
      case 'users add': {
        const user = await users.create({
          username: need(values.username, '--username'),
          email: need(values.email, '--email'),
          password: need(await passwordFrom(values.password, input), '--password'),
          ...(values.name ? { name: values.name } : {}),
          ...(values.role ? { roles: values.role } : {}),
        });
        // Audited as the console's: an admin added from a shell must leave a trace too.
        await services.audit.record({ event: 'admin.user.create', ...cli, subject: user.id, detail: { username: user.username, admin: user.roles.includes(ADMIN_ROLE) } });
        print(`created user ${user.username} (${user.id})`);
        break;
      }
      case 'users list':
        for (const user of await users.list()) {
          // The uid too: UCenter applications know a member by it (the import's messages name uids).
          print(`${user.id}  ${user.username}  ${user.email}  ${user.disabled ? 'disabled' : 'active'}${user.roles.length ? `  [${user.roles.join(',')}]` : ''}${user.uid !== undefined ? `  uid ${user.uid}` : ''}${unverifiedNote(user, config.HUB_UNVERIFIED_ACCOUNT_DAYS)}`);
        }
        break;
      case 'users pending-deletions': {
        const pending = await services.pendingDeletions.list();
        if (pending.length === 0) print('no pending deletions');
        for (const entry of pending) {
          const state = entry.phase === 'checking' ? 'checking (rolled back unless decided)' : 'deleting';
          print(`${entry.userId}  ${entry.username}  ${state}  asked ${new Date(entry.since).toISOString()} by ${entry.by.actor}  tries ${entry.attempts}  next ${new Date(entry.nextAttemptAt).toISOString()}${entry.lastError ? `  last error: ${entry.lastError}` : ''}`);
        }
        break;
      }
      case 'users disable': {
        const disabled = await (await lifecycleFor(services)).disable(need(target, 'LOGIN'), cli);
        print(disabled.alreadyDisabled
          ? `${disabled.username} was disabled already: nothing ended or sent again (its subsites were notified then)`
          : `disabled ${disabled.username}; sessions ended, tokens revoked, subsites notified through the delivery queue`);
        break;
      }
      case 'users enable': {
        const enabled = await (await lifecycleFor(services)).enable(need(target, 'LOGIN'), cli);
        print(enabled.alreadyEnabled ? `${enabled.username} was enabled already: nothing changed` : `enabled ${enabled.username}`);
        break;
      }
      case 'users delete':
        print(`deleted ${(await (await lifecycleFor(services)).delete(need(target, 'LOGIN'), cli)).username}; sessions ended, tokens revoked, subsites notified through the delivery queue`);
        break;
      case 'users reset-two-step': {
        const { user, wasOn } = await resetTwoStep(services, need(target, 'LOGIN'), cli);
        print(wasOn ? `two-step sign-in of ${user.username} reset; the next sign-in asks the password only` : `${user.username} had no two-step sign-in; nothing to reset`);
        // The owner is told, as after the console's reset (ASVS 5 §6.3.7); the CLI waits for the
        // mail and says what became of it, since it exits as soon as it is done.
        if (wasOn) print(await mailOwner(() => new OwnerNotices(services.mailer, config.HUB_ISSUER).twoStepChangedNow(user, user.locale ?? 'en', 'disabled')));
        break;
      }
      case 'users grant-admin':
      case 'users revoke-admin': {
        const on = command === 'grant-admin';
        const { user, changed } = await setAdminRole(services, need(target, 'LOGIN'), on, cli);
        print(!changed
          ? `${user.username} ${on ? 'is an admin already' : 'is not an admin'}: nothing changed`
          : on
            ? `${user.username} is an admin now: the console opens to them${user.disabled ? ' once the account is enabled' : ''}`
            : `${user.username} is no longer an admin: the console is closed to them from their next request`);
        break;
      }
      case 'users expire-older-unverified': {
        const days = config.HUB_UNVERIFIED_ACCOUNT_DAYS;
        if (days <= 0) throw new TypeError('HUB_UNVERIFIED_ACCOUNT_DAYS is 0: the hub removes no unverified account, so there is nothing to list');
        const { sessions, grants, consents, twoStepRecords, audit } = services;
        const unverified = new UnverifiedAccounts({ store, keys, users, sessions, grants, consents, twoStepRecords, audit, logger: createLogger('error'), days });
        const { listed, kept } = await unverified.listOlder();
        await audit.record({ event: 'admin.unverified.list-older', ...cli, detail: { listed, kept, days } });
        print(`${listed} unverified account(s) made by an older release listed: removed in ${days} day(s) unless verified first (\`users list\` shows the dates); ${kept} with sign-in records kept for good`);
        break;
      }
      case 'keys rotate': {
        if (config.HUB_JWKS || (await publishedPinsSigningKeys(store, new Keys(config.KEY_PREFIX)))) {
          throw new ValidationError('the hub signs with the keys of its HUB_JWKS setting, not with keys from the store: a rotation here would not be used. Rotate a pinned key in three passes, restarting the hubs one by one each time: add the new private key to HUB_JWKS second (the first signs, all verify); then move it first; then, once the tokens the old key signed have expired, remove the old one. Or remove HUB_JWKS from every hub to rotate live with this command');
        }
        const retireSeconds = config.HUB_KEY_RETIRE_SECONDS ?? Math.max(ID_TOKEN_TTL, config.HUB_REFRESH_TOKEN_TTL, config.HUB_SESSION_TTL);
        const algs = (values.alg ?? [...SIGNING_ALGS]).map((alg) => {
          if (!isSigningAlg(alg)) throw new ValidationError(`--alg must be one of ${SIGNING_ALGS.join(', ')}`);
          return alg;
        });
        const { rotated } = await rotateSigningKeys(store, keys, { activationDelayMs: config.HUB_KEY_ACTIVATION_DELAY_MS, retireAfterMs: retireSeconds * 1000 }, undefined, algs);
        // Key ids and times only: they are public (/jwks), the private keys never leave the store.
        await services.audit.record({ event: 'admin.keys.rotate', ...cli, detail: { keys: rotated.map(({ kid, alg, activatesAt }) => `${kid} ${alg} from ${new Date(activatesAt).toISOString()}`).join(', ') } });
        for (const key of rotated) {
          // Only a hub that runs under this KEY_PREFIX reads the set: none has published settings
          // here, so the usual "every hub publishes it" would be a claim nothing backs.
          const who = published
            ? `every hub process publishes it within ${config.HUB_STORE_CHECK_MS} ms and signs with it from`
            : `no hub has run under KEY_PREFIX ${JSON.stringify(config.KEY_PREFIX)}: a hub started with it will publish it and sign with it from`;
          print(
            `new signing key ${key.kid} (${key.alg}): ${who} ` +
              `${new Date(key.activatesAt).toISOString()}; the ${key.alg} keys it replaces stay published ${retireSeconds} s after that (no restart needed)`,
          );
        }
        break;
      }
      case 'invites create': {
        const days = values.days === undefined ? undefined : parseInviteDays(values.days);
        const { link, invite } = await services.invites.create({ createdBy: 'cli', ...(values.email ? { email: values.email } : {}), ...(days !== undefined ? { days } : {}) });
        await services.audit.record({ event: 'admin.invite.create', ...cli, detail: { bound: Boolean(invite.email) } });
        if (config.HUB_SIGNUP !== 'invite') print(`warning: HUB_SIGNUP is ${config.HUB_SIGNUP}; the link works only while it is invite`);
        print(`invite link (single use, shown once, valid until ${new Date(invite.expiresAt).toISOString()}${invite.email ? `, for ${invite.email}` : ''}):`);
        print(link);
        break;
      }
      case 'seed': {
        const file = need(command, 'FILE');
        // Each entry is audited as it is made, and a generated secret printed as its client is
        // made (its sync key marked shown only then): a run interrupted halfway leaves a trace of
        // what it wrote, and no key no one saw counted as shown.
        const report = await applySeed(await loadSeedFile(file), services, {
          show: (secrets) => {
            for (const line of secretLines(secrets)) print(line);
          },
          created: (entry) => services.audit.record({ event: 'admin.seed.create', ...cli, detail: { file, entry } }),
        });
        // Entry names only (`user:alice`, `client:forum`), never a secret or password of the file.
        await services.audit.record({ event: 'admin.seed.apply', ...cli, detail: { file, created: report.created.join(', ') } });
        print(`applied ${file}: created ${report.created.join(', ') || 'nothing'}; left as they are ${report.skipped.join(', ') || 'none'}`);
        break;
      }
      default:
        print(USAGE);
        return 2;
    }
    return 0;
  } catch (error) {
    if (error instanceof StoreUnavailableError) {
      // Connected at the start of the command: not "did not answer: … its password right?".
      print(`error: ${await storeStoppedMessage(redisTarget, error.cause)}`);
      return 1;
    }
    if (error instanceof HubError || error instanceof TypeError || error instanceof ConfigError) {
      print(`error: ${error instanceof HubError ? error.publicMessage : error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await store.close();
  }
}

/**
 * The account lifecycle revokes tokens through oidc-provider's models, so it needs an
 * engine: one built here over the same store, with a throw-away key that never signs
 * anything and is never stored (the hub's keys stay the hub's).
 */
async function lifecycleFor(services: DomainServices): Promise<AccountLifecycle> {
  const { config, store, keys, users, clients, consents, grants, sessions, deliveries, audit, ucenterNotes } = services;
  const views = new Views({ issuer: config.HUB_ISSUER });
  const provider = createProvider({ config, store, keys, users, clients, consents, grants, sessions, views, jwks: { keys: await newSigningKeys() }, cookieKeys: [randomBytes(32).toString('base64url')] });
  // UCenter applications get their notes too (deleteuser, or updatepw for a disabled user), as from the running hub.
  return new AccountLifecycle({ users, sessions, consents, grants, provider, clients, deliveries, audit, twoStepRecords: services.twoStepRecords, pendingDeletions: services.pendingDeletions, moreNotices: (userId, reason) => ucenterNotes.forcedLogout(userId, reason) });
}

/** For `users list`: a self-sign-up whose address is not verified, and when the hub removes it. */
function unverifiedNote(user: PublicUser, days: number): string {
  if (!user.signedUp || user.emailVerified) return '';
  const at = removalTime(user, days);
  if (at !== undefined) return `  unverified, removed ${new Date(at * 1000).toISOString()} unless verified`;
  return user.signedInUnverifiedAt !== undefined ? '  unverified, kept (signed in before verifying)' : '  unverified';
}

/** The running hub's published settings each command goes by (the others go by none). */
const HUB_SETTINGS_USED: Record<string, readonly string[]> = {
  'invites create': ['HUB_ISSUER', 'HUB_SIGNUP'],
  'keys rotate': ['HUB_KEY_ACTIVATION_DELAY_MS', 'HUB_KEY_RETIRE_SECONDS', 'HUB_STORE_CHECK_MS', 'HUB_REFRESH_TOKEN_TTL', 'HUB_SESSION_TTL'],
  'clients rotate-sync-key': ['SYNC_KEY_OVERLAP_SECONDS'],
  'clients check': ['HUB_ISSUER'],
};

const isEntry = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isEntry) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
