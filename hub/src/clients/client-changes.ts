import { createHash } from 'node:crypto';
import type { SubsiteClient } from './client.js';

/** A client's settings an admin can change, by the names `clients update` and the console use (ClientInput's). */
const SETTINGS: Record<string, (client: SubsiteClient) => unknown> = {
  name: (client) => client.name,
  redirectUris: (client) => client.redirectUris,
  postLogoutRedirectUris: (client) => client.postLogoutRedirectUris,
  grantTypes: (client) => client.grantTypes,
  tokenEndpointAuthMethod: (client) => client.tokenEndpointAuthMethod,
  trusted: (client) => client.trusted,
  requirePkce: (client) => client.requirePkce,
  syncLoginUrl: (client) => client.sync?.loginUrl,
  syncLogoutUrl: (client) => client.sync?.logoutUrl,
  syncTransport: (client) => client.sync?.transport,
  userdeleteUrl: (client) => client.userdeleteUrl,
  backchannelLogoutUri: (client) => client.backchannelLogoutUri,
  casCompat: (client) => client.casCompat === true,
  allowSecretInQuery: (client) => client.allowSecretInQuery === true,
  allowHttp: (client) => client.allowHttp === true,
  idTokenSignedResponseAlg: (client) => client.idTokenSignedResponseAlg ?? 'RS256',
};

/**
 * The settings that differ between two versions of a client (never its secret or sync key), for
 * the audit entry of an edit: the console's said only that the subsite was saved.
 */
export function changedSettings(before: SubsiteClient, after: SubsiteClient): string[] {
  return Object.entries(SETTINGS)
    .filter(([, read]) => JSON.stringify(read(before)) !== JSON.stringify(read(after)))
    .map(([name]) => name);
}

/**
 * Whether an edit left a subsite that had a way to hear of sign-outs (a sync logout URL, a
 * back-channel logout URI) with none: a user who signs out at the hub, or at another subsite,
 * then stays signed in there until its own session ends. The CLI and the console say so.
 */
export function signOutNoLongerReaches(before: SubsiteClient, after: SubsiteClient): boolean {
  const hears = (client: SubsiteClient) => client.sync !== undefined || client.backchannelLogoutUri !== undefined;
  return hears(before) && !hears(after);
}

/**
 * A digest of a client's settings (never its secret or sync key): the console's edit form carries
 * the one of the record it showed, and a save whose record has other settings by then (another tab
 * or admin saved in between) is refused instead of putting back what that save changed.
 */
export function settingsFingerprint(client: SubsiteClient): string {
  const values = Object.entries(SETTINGS).map(([name, read]) => [name, read(client) ?? null]);
  return createHash('sha256').update(JSON.stringify(values)).digest('base64url');
}
