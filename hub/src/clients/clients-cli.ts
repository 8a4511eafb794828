import type { AuditLog } from '../audit/audit-log.js';
import type { SigningAlg } from '../secrets/secrets.js';
import { STATUS_TEXT, type IntegrationCheck } from '../sync/integration-check.js';
import { MAX_SECRET_OVERLAP_SECONDS, type ClientInput, type ClientRegistry } from './client-registry.js';
import type { AuthMethod, GrantType, SubsiteClient, SyncTransport } from './client.js';
import { livePreviousSecret } from './client-secret.js';
import { changedSettings, signOutNoLongerReaches } from './client-changes.js';

export const CLIENTS_USAGE = `  npm run hub -- clients add --id ID [--name NAME] --redirect-uri URI [--redirect-uri URI ...]
        [--post-logout-uri URI] [--grant authorization_code --grant refresh_token ...] [--public]
        [--auth client_secret_basic|client_secret_post] [--trusted] [--no-pkce]
        [--sync-login-url URL --sync-logout-url URL [--transport img|script]]
        [--userdelete-url URL] [--backchannel-uri URL] [--cas [--secret-in-query]]
        [--id-token-alg RS256|ES256|EdDSA]   (ID token signature; RS256 by default)
        [--allow-http]   (plain-http URLs off loopback on an https hub: a site without TLS)
  npm run hub -- clients update ID [the options of add; a list option replaces the whole list]
        [--trusted|--untrusted] [--pkce|--no-pkce] [--no-cas] [--no-allow-http]
        (only what is given changes; '' clears: --post-logout-uri '', --userdelete-url '',
        --backchannel-uri '', --sync-login-url '' --sync-logout-url '' turns sync off)
  npm run hub -- clients list
  npm run hub -- clients show ID   (every setting but its secrets)
  npm run hub -- clients remove|rotate-sync-key ID
  npm run hub -- clients rotate-secret ID [--overlap SECONDS]   (the old secret stops at once, or stays valid that long)
  npm run hub -- clients rotate-secret ID --end-overlap   (the previous secret stops now)
  npm run hub -- clients hash-secrets   (once every hub process runs this version: no client secret stays in clear)
  npm run hub -- clients check ID [--base-url URL]   (test sync to the subsite's endpoints; exit 1 unless OK)`;

/** The parsed options the `clients` commands read. */
export interface ClientsCliValues {
  id?: string;
  name?: string;
  'redirect-uri'?: string[];
  'post-logout-uri'?: string[];
  grant?: string[];
  public?: boolean;
  auth?: string;
  trusted?: boolean;
  untrusted?: boolean;
  pkce?: boolean;
  'no-pkce'?: boolean;
  'sync-login-url'?: string;
  'sync-logout-url'?: string;
  transport?: string;
  'userdelete-url'?: string;
  'backchannel-uri'?: string;
  cas?: boolean;
  'no-cas'?: boolean;
  'secret-in-query'?: boolean;
  'allow-http'?: boolean;
  'no-allow-http'?: boolean;
  'id-token-alg'?: string;
  'base-url'?: string;
  overlap?: string;
  'end-overlap'?: boolean;
}

export interface ClientsCliServices {
  clients: ClientRegistry;
  integration: IntegrationCheck;
  audit: AuditLog;
  /** SYNC_KEY_OVERLAP_SECONDS of the running hub. */
  syncKeyOverlapSeconds: number;
}

type Print = (line: string) => void;

const CLI = { actor: 'cli' };

/** A list option: given as '' alone, it clears the list. */
function list(values: string[] | undefined): string[] | undefined {
  return values?.filter((value) => value !== '');
}

/** What the options change, and only that: an option not given leaves its setting as it is. */
function changeFrom(values: ClientsCliValues, forUpdate: boolean): Omit<ClientInput, 'clientId'> {
  const change: Omit<ClientInput, 'clientId'> = {};
  if (values.name !== undefined) change.name = values.name;
  if (values['redirect-uri'] !== undefined) change.redirectUris = list(values['redirect-uri']);
  if (values['post-logout-uri'] !== undefined) change.postLogoutRedirectUris = list(values['post-logout-uri']);
  if (values.grant !== undefined) change.grantTypes = list(values.grant) as GrantType[];
  if (values.public) change.tokenEndpointAuthMethod = 'none';
  else if (values.auth !== undefined) change.tokenEndpointAuthMethod = values.auth as AuthMethod;
  if (values.trusted && values.untrusted) throw new TypeError('--trusted and --untrusted contradict each other');
  if (values.pkce && values['no-pkce']) throw new TypeError('--pkce and --no-pkce contradict each other');
  if (values.cas && values['no-cas']) throw new TypeError('--cas and --no-cas contradict each other');
  if (values.trusted) change.trusted = true;
  else if (values.untrusted || !forUpdate) change.trusted = false;
  if (values['no-pkce']) change.requirePkce = false;
  else if (values.pkce) change.requirePkce = true;
  if (values['sync-login-url'] !== undefined) change.syncLoginUrl = values['sync-login-url'];
  if (values['sync-logout-url'] !== undefined) change.syncLogoutUrl = values['sync-logout-url'];
  if (values.transport !== undefined) change.syncTransport = values.transport as SyncTransport;
  if (values['userdelete-url'] !== undefined) change.userdeleteUrl = values['userdelete-url'];
  if (values['backchannel-uri'] !== undefined) change.backchannelLogoutUri = values['backchannel-uri'];
  if (values.cas) change.casCompat = true;
  if (values['no-cas']) {
    change.casCompat = false;
    change.allowSecretInQuery = false;
  }
  if (values['secret-in-query']) change.allowSecretInQuery = true;
  if (values['allow-http'] && values['no-allow-http']) throw new TypeError('--allow-http and --no-allow-http contradict each other');
  if (values['allow-http']) change.allowHttp = true;
  else if (values['no-allow-http']) change.allowHttp = false;
  if (values['id-token-alg'] !== undefined) change.idTokenSignedResponseAlg = values['id-token-alg'] as SigningAlg | '';
  return change;
}

/** The overlap of `--overlap`: a whole number of seconds above 0 and at most {@link MAX_SECRET_OVERLAP_SECONDS}, written in decimal digits. */
export function parseOverlap(value: string): number {
  const seconds = /^[1-9][0-9]{0,9}$/.test(value) ? Number(value) : NaN;
  if (!(Number.isSafeInteger(seconds) && seconds <= MAX_SECRET_OVERLAP_SECONDS)) throw new TypeError(`--overlap takes a whole number of seconds above 0, at most ${MAX_SECRET_OVERLAP_SECONDS} (30 days): how long the previous secret stays valid; not '${value}'; leave it out to stop the previous secret at once`);
  return seconds;
}

/** When a previous secret's overlap ends, as `show` and `rotate-secret` say it. */
function until(validUntil: number): string {
  return new Date(validUntil * 1000).toISOString();
}

/** How a client's secret is kept, and the previous secret of a rotation while it is still valid: never the secrets. */
function secretLine(client: SubsiteClient): string[] {
  if (client.tokenEndpointAuthMethod === 'none') return [];
  const previous = livePreviousSecret(client);
  return [
    `  secret: ${client.clientSecretDigest ? 'stored as a digest' : 'stored in clear by an older hub (clients hash-secrets hashes it)'}`
      + `${client.clientSecretDigest && client.clientSecret !== undefined ? ', and in clear for older hub processes until clients hash-secrets' : ''}`,
    ...(previous ? [`  previous secret valid until ${until(previous.validUntil)} (clients rotate-secret ${client.clientId} --end-overlap stops it now)`] : []),
  ];
}

/** Every setting of a client but its secrets, a line each. */
export function describeClient(client: SubsiteClient): string[] {
  const none = (items: string[]) => (items.length ? items.join(' ') : '(none)');
  return [
    `client ${client.clientId}`,
    `  name: ${client.name}`,
    `  redirect URIs: ${none(client.redirectUris)}`,
    `  post-logout redirect URIs: ${none(client.postLogoutRedirectUris)}`,
    `  grants: ${client.grantTypes.join(', ')}`,
    `  token endpoint auth: ${client.tokenEndpointAuthMethod}${client.tokenEndpointAuthMethod === 'none' ? ' (public: no secret)' : ''}`,
    ...secretLine(client),
    `  consent: ${client.trusted ? 'never asked (trusted)' : 'asked'}`,
    `  PKCE required: ${client.requirePkce ? 'yes' : 'no'}`,
    `  scope: ${client.scope}`,
    `  sync: ${client.sync ? `${client.sync.transport}, login ${client.sync.loginUrl}, logout ${client.sync.logoutUrl}${client.sync.previousKey ? ' (a key rotation keeps the previous key)' : ''}` : 'off'}`,
    `  userdelete URL: ${client.userdeleteUrl ?? '(none)'}`,
    `  back-channel logout URI: ${client.backchannelLogoutUri ?? '(none)'}`,
    `  CAS endpoints: ${client.casCompat ? `on${client.allowSecretInQuery ? ', secret in the query allowed' : ''}` : 'off'}`,
    `  ID token signature: ${client.idTokenSignedResponseAlg ?? 'RS256'}`,
    ...(client.allowHttp ? ['  plain-http URLs: allowed on an https hub (--allow-http)'] : []),
  ];
}

/**
 * `clients …` commands of the admin CLI. Every change is audited as the console's are (actor
 * `cli`); secrets are printed once, when they are made. @returns the exit code.
 */
export async function runClientsCli(command: string | undefined, target: string | undefined, values: ClientsCliValues, services: ClientsCliServices, print: Print): Promise<number> {
  const { clients, audit } = services;
  const need = (value: string | undefined, what: string): string => {
    if (!value) throw new TypeError(`missing ${what}\n\n${CLIENTS_USAGE}`);
    return value;
  };
  /** A client the CLI may change: never one the hub owns. */
  const changeable = async (id: string): Promise<SubsiteClient> => {
    const client = await clients.findUncached(id);
    if (client?.internal) throw new TypeError(`${id} is the hub's own client; the running hub manages it`);
    return client ?? clients.require(id); // require: the registry's "no such client" error
  };
  const secretsOf = (client: SubsiteClient, before?: SubsiteClient) => {
    if (client.clientSecret && client.clientSecret !== before?.clientSecret) print(`client secret (shown once): ${client.clientSecret}`);
    if (client.sync && client.sync.key !== before?.sync?.key) print(`sync key (shown once): ${client.sync.key}`);
  };
  switch (command) {
    case 'add': {
      const client = await clients.register({ clientId: need(values.id, '--id'), ...changeFrom(values, false) });
      await audit.record({ event: 'admin.client.register', ...CLI, client: client.clientId });
      print(`registered client ${client.clientId}`);
      secretsOf(client);
      return 0;
    }
    case 'update': {
      const found = await changeable(need(target, 'ID'));
      const change = changeFrom(values, true);
      if (Object.keys(change).length === 0) throw new TypeError(`nothing to change: give the settings to change\n\n${CLIENTS_USAGE}`);
      // The settings that changed, as the console's entry names them (not every option given).
      const { before, client } = await clients.updateFrom(found.clientId, change);
      await audit.record({ event: 'admin.client.update', ...CLI, client: client.clientId, detail: { changed: changedSettings(before, client).join(',') } });
      print(`updated client ${client.clientId}`);
      if (signOutNoLongerReaches(before, client)) {
        print(`note: ${client.clientId} now has neither sync nor a back-channel logout URI: sign-outs at the hub no longer reach it, and its users stay signed in there until its own session ends (give it --backchannel-uri to keep them)`);
      }
      secretsOf(client, before);
      for (const line of describeClient(client)) print(line);
      return 0;
    }
    case 'list':
      for (const client of await clients.list()) {
        if (client.internal) continue;
        print(`${client.clientId}  ${client.name}  grants=${client.grantTypes.join(',')}  ${client.trusted ? 'trusted' : 'consent'}  sync=${client.sync ? client.sync.transport : 'off'}${client.idTokenSignedResponseAlg ? `  id_token=${client.idTokenSignedResponseAlg}` : ''}`);
      }
      return 0;
    case 'show':
      for (const line of describeClient(await changeable(need(target, 'ID')))) print(line);
      return 0;
    case 'remove': {
      const { clientId } = await changeable(need(target, 'ID'));
      await clients.remove(clientId);
      await audit.record({ event: 'admin.client.remove', ...CLI, client: clientId });
      print(`removed client ${clientId}`);
      return 0;
    }
    case 'rotate-secret': {
      const id = need(target, 'ID');
      if (values['end-overlap']) {
        if (values.overlap !== undefined) throw new TypeError('--end-overlap and --overlap contradict each other');
        const { clientId } = await changeable(id);
        const ended = await clients.endSecretOverlap(clientId);
        await audit.record({ event: 'admin.client.end-secret-overlap', ...CLI, client: clientId, detail: { wouldHaveEnded: until(ended) } });
        print(`${clientId}: the previous secret stopped now (it was valid until ${until(ended)}); only the current secret works`);
        return 0;
      }
      const overlapSeconds = values.overlap === undefined ? undefined : parseOverlap(values.overlap);
      const { clientId } = await changeable(id);
      const { client, clientSecret, droppedPrevious } = await clients.rotateSecret(clientId, { overlapSeconds });
      const previous = client.previousSecret;
      await audit.record({ event: 'admin.client.rotate-secret', ...CLI, client: clientId, ...(previous ? { detail: { overlapEnds: until(previous.validUntil) } } : {}) });
      print(`new client secret (shown once): ${clientSecret}`);
      if (droppedPrevious) print(`the secret replaced by the rotation before (valid until ${until(droppedPrevious.validUntil)}) stopped now: one previous secret at most`);
      print(
        previous
          ? `the previous secret stays valid until ${until(previous.validUntil)} (${overlapSeconds} s): configure the subsite with the new secret before then`
          : 'the previous secret stopped working now: configure the subsite with the new secret',
      );
      return 0;
    }
    case 'hash-secrets': {
      const hashed = await clients.hashClearSecrets();
      await audit.record({ event: 'admin.clients.hash-secrets', ...CLI, detail: { hashed: hashed.length } });
      // Only when something was hashed: after "nothing was in clear" the warning read as a contradiction (an operator review).
      if (hashed.length) {
        print(`hashed the secrets of ${hashed.length} client(s): ${hashed.join(', ')}`);
        print('from now on these records hold only a digest of their secret (hub processes of an older version can no longer authenticate these clients)');
      } else {
        print('no client secret was stored in clear: nothing to do');
      }
      return 0;
    }
    case 'rotate-sync-key': {
      const overlap = services.syncKeyOverlapSeconds;
      const client = await clients.rotateSyncKey((await changeable(need(target, 'ID'))).clientId, overlap);
      await audit.record({ event: 'admin.client.rotate-sync-key', ...CLI, client: client.clientId });
      print(
        client.sync!.previousKey
          ? `new sync key (shown once): ${client.sync!.key}; ` +
              `the hub keeps signing with the previous key for ${overlap} s: configure the subsite with the new key ` +
              'as syncKey and the old one as previousSyncKey within that time'
          : // The key replaced was shown to no one: no subsite has it, so no overlap.
            `new sync key (shown once): ${client.sync!.key}; the hub signs with it from now on: configure the subsite with it as syncKey`,
      );
      return 0;
    }
    case 'check': {
      const report = await services.integration.check(need(target, 'ID'), values['base-url']);
      await audit.record({ event: 'admin.client.check-sync', ...CLI, client: report.clientId, detail: { ok: report.ok } });
      if (report.checks.length === 0) {
        print(`${report.clientId}: sync is not configured (no sync URLs)`);
        return 1;
      }
      for (const check of report.checks) print(`${check.endpoint}: ${STATUS_TEXT[check.status]} (${check.url}): ${check.detail}`);
      print(report.ok ? `${report.clientId}: OK` : `${report.clientId}: FAILED`);
      return report.ok ? 0 : 1;
    }
    default:
      print(CLIENTS_USAGE);
      return 2;
  }
}
