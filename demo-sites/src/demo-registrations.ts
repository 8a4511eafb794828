import { matchClientSecret } from '../../hub/src/clients/client-secret.js';
import type { SubsiteClient } from '../../hub/src/clients/client.js';
import type { HubServices } from '../../hub/src/index.js';
import type { UcenterApp } from '../../hub/src/ucenter/ucenter-app.js';
import type { DemoConfig, SiteName, SiteSettings } from './demo-config.js';

/**
 * How the demo's registrations at the hub differ from what this run's sites use, per site
 * (`bbs`, `wiki`, `shop`, `forum`); a site whose registration fits has no entry.
 *
 * The demo seed is create-only, so on a kept Redis (`REDIS_URL`) a registration made by an
 * earlier run stays as it was: after a restart with another `BBS_PORT` (or `BBS_CLIENT_SECRET`,
 * `FORUM_UC_KEY`, …) the banner listed the site as usual while every sign-in there ended on the
 * hub's "redirect_uri did not match" page (an operator review). Only what the site's own
 * settings decide is compared, and no secret is ever named.
 */
export async function demoRegistrationProblems(config: DemoConfig, services: Pick<HubServices, 'clients' | 'ucenterApps'>): Promise<Partial<Record<SiteName | 'forum', string[]>>> {
  const problems: Partial<Record<SiteName | 'forum', string[]>> = {};
  for (const site of Object.values(config.sites)) {
    const found = siteProblems(site, await services.clients.findUncached(site.name));
    if (found.length) problems[site.name] = found;
  }
  const forum = forumProblems(config.forum, await services.ucenterApps.find(config.forum.appId));
  if (forum.length) problems.forum = forum;
  return problems;
}

/** The banner's note for a site whose registration does not fit, or '' when it does. */
export function registrationNote(problems: string[] | undefined, adminPath: string): string {
  if (!problems?.length) return '';
  if (problems[0] === REMOVED) return `   (removed at the hub: the seed does not bring it back; sign-ins there fail until it is registered again at ${adminPath})`;
  return `   (registered at the hub by an earlier run with another ${problems.join(', ')}: the seed does not change a registration, so sign-ins there fail; start with that run's settings, another KEY_PREFIX or Redis database, or change it at ${adminPath})`;
}

const REMOVED = 'removed';

function siteProblems(site: SiteSettings, client: SubsiteClient | undefined): string[] {
  if (!client) return [REMOVED];
  const problems: string[] = [];
  if (!client.redirectUris.includes(`${site.origin}/sso/callback`)) problems.push(`redirect URI (${client.redirectUris.join(' ') || 'none'})`);
  if (!client.postLogoutRedirectUris.includes(`${site.origin}/`)) problems.push('post-logout URI');
  if (client.sync && (client.sync.loginUrl !== `${site.origin}/sso/synclogin` || client.sync.logoutUrl !== `${site.origin}/sso/synclogout`)) problems.push('sync URLs');
  if (client.userdeleteUrl !== undefined && client.userdeleteUrl !== `${site.internalOrigin}/sso/userdelete`) problems.push('userdelete URL');
  if (client.backchannelLogoutUri !== undefined && client.backchannelLogoutUri !== `${site.internalOrigin}/sso/backchannel-logout`) problems.push('back-channel logout URI');
  if (!matchClientSecret(client, site.clientSecret)) problems.push('client secret');
  if (client.sync && client.sync.key !== site.syncKey && client.sync.previousKey !== site.syncKey) problems.push('sync key');
  return problems;
}

function forumProblems(forum: DemoConfig['forum'], app: UcenterApp | undefined): string[] {
  if (!app) return [REMOVED];
  const problems: string[] = [];
  if (app.url !== forum.origin) problems.push(`URL (${app.url})`);
  if (app.internalUrl !== undefined && app.internalUrl !== forum.internalOrigin) problems.push('internal URL');
  if (app.key !== forum.ucKey) problems.push('UC_KEY');
  return problems;
}
