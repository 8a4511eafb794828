import type { DemoConfig, SiteSettings } from './demo-config.js';

export const DEMO_USERS = [
  { username: 'alice', email: 'alice@example.test', name: 'Alice Liddell', password: 'alice-password-1', roles: ['admin'] },
  { username: 'bob', email: 'bob@example.test', name: 'Bob Builder', password: 'bob-password-1', roles: [] as string[] },
  // A Chinese-named user (issue 13): the hub and the demo sites show 张三 as the display name.
  { username: 'zhangsan', email: 'zhangsan@example.test', name: '张三', password: 'zhangsan-password-1', roles: [] as string[] },
];

function client(site: SiteSettings) {
  return {
    clientId: site.name,
    clientSecret: site.clientSecret,
    name: site.title,
    redirectUris: [`${site.origin}/sso/callback`],
    postLogoutRedirectUris: [`${site.origin}/`],
    grantTypes: ['authorization_code', 'refresh_token'] as ('authorization_code' | 'refresh_token')[],
    trusted: site.trusted,
    syncLoginUrl: `${site.origin}/sso/synclogin`,
    syncLogoutUrl: `${site.origin}/sso/synclogout`,
    syncTransport: 'img' as const,
    syncKey: site.syncKey,
    userdeleteUrl: `${site.internalOrigin ?? site.origin}/sso/userdelete`,
    backchannelLogoutUri: `${site.internalOrigin ?? site.origin}/sso/backchannel-logout`,
  };
}

/** The UCenter-bound forum: UCenter application 1 with the demo's (public) key. */
function forumApp(config: DemoConfig) {
  const { forum } = config;
  return { appId: forum.appId, name: forum.title, type: 'DISCUZX', url: forum.origin, internalUrl: forum.internalOrigin, key: forum.ucKey, synlogin: true, updatepw: true };
}

/** The demo's users, clients and UCenter application, for the ports and hosts in the demo configuration. */
export function demoSeed(config: DemoConfig) {
  return { users: DEMO_USERS, clients: Object.values(config.sites).map(client), ucenterApps: [forumApp(config)] };
}
