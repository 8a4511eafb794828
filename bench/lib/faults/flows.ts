/**
 * The load's journeys through the proxy, each step recorded: client_credentials with
 * introspection, portal sign-in (argon2id) and sign-out, and the kit's lazy sign-in with its
 * sync beacons (a sync code replayed must be refused) and sign-out.
 */
import { attribute, inputValue } from '../../../hub/src/testing/browser.js';
import { continueUrlOf } from '../../../hub/src/testing/flows.js';
import { RecordingBrowser } from './recording.js';
import { basic, PASSWORD, USERS, type Rig } from './rig.js';

/** client_credentials, then introspection of the last token answered (it must be active). */
export function clientCredentialsFlow(rig: Rig): () => Promise<void> {
  const { recording, proxyUrl } = rig;
  let tokenForIntrospection = '';
  return async () => {
    const at = Date.now();
    const answer = await recording.call('client_credentials', `${proxyUrl}/token`, { method: 'POST', headers: { authorization: basic('svc') }, form: { grant_type: 'client_credentials' } });
    recording.issuedToken(answer, at);
    if (answer.status === 200) tokenForIntrospection = String(answer.json.access_token);
    if (tokenForIntrospection) {
      const seen = await recording.call('introspection', `${proxyUrl}/token/introspection`, { method: 'POST', headers: { authorization: basic('svc') }, form: { token: tokenForIntrospection } });
      if (seen.status === 200 && seen.json.active !== true) {
        const last = recording.last();
        last.ok = false;
        last.problems.push('inactive');
      }
    }
  };
}

/** Portal sign-in through the proxy (argon2id), following the sync page; returns the sync page. */
export async function portalSignIn(rig: Rig, browser: RecordingBrowser, login: string): Promise<string> {
  const { proxyUrl } = rig;
  const host = new URL(proxyUrl).host;
  const form = await browser.follow(`${proxyUrl}/login`, [host]);
  if (form.response.status !== 200) throw new Error(`GET /login ${form.response.status}`);
  const action = new URL(attribute(form.body, /action="(\/interaction\/[^"]+\/login)"/), proxyUrl).toString();
  const answer = await browser.post(action, { _csrf: inputValue(form.body, '_csrf'), login, password: PASSWORD });
  const sync = await answer.text();
  if (answer.status !== 200) throw new Error(`sign-in ${answer.status}`);
  const account = await browser.follow(continueUrlOf(sync, proxyUrl), [host]);
  if (account.response.status !== 200) throw new Error(`continue ${account.response.status}`);
  return sync;
}

export async function portalSignOut(rig: Rig, browser: RecordingBrowser): Promise<string> {
  const confirm = await browser.get(`${rig.proxyUrl}/session/end`);
  const html = await confirm.text();
  if (confirm.status !== 200) throw new Error(`GET /session/end ${confirm.status}`);
  const done = await browser.post(`${rig.proxyUrl}/session/end/confirm`, { xsrf: inputValue(html, 'xsrf'), logout: 'yes' });
  const page = await done.text();
  if (done.status !== 200) throw new Error(`sign-out ${done.status}`);
  return page;
}

export async function signInAndOut(rig: Rig, worker: number): Promise<void> {
  const browser = new RecordingBrowser(rig.recording, 'portal sign-in/out');
  await portalSignIn(rig, browser, USERS[worker % USERS.length]!);
  await portalSignOut(rig, browser);
  const account = await browser.get(`${rig.proxyUrl}/account`);
  await account.text();
  if (account.status === 200) {
    rig.recording.record('portal sign-in/out', 'still signed in after sign-out', Date.now(), 200, ['half-done sign-out'], false);
  }
}

/** The kit subsite's sync beacons on a hub page. */
export const beacons = (rig: Rig, page: string) => [...page.matchAll(/class="beacon" src="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&')).filter((u) => u.startsWith(rig.subsiteUrl));

/** Portal sign-in, the kit's sync beacons, then the kit's page: whether it shows `login` signed in. */
export async function signInAtKit(rig: Rig, browser: RecordingBrowser, login: string): Promise<boolean> {
  const sync = await portalSignIn(rig, browser, login);
  for (const beacon of beacons(rig, sync)) await (await browser.get(beacon)).arrayBuffer();
  const page = await browser.follow(`${rig.subsiteUrl}/page`, [new URL(rig.proxyUrl).host, new URL(rig.subsiteUrl).host], 10);
  return page.body.includes(`Signed in as ${login}`);
}

/** Sign-in at the hub, the forum's sync beacon, the forum's page (lazy verification), sign-out, the page again. */
export async function kitFlow(rig: Rig, worker: number, login = USERS[(worker + 6) % USERS.length]!): Promise<void> {
  const { recording, proxyUrl, subsiteUrl } = rig;
  const browser = new RecordingBrowser(recording, 'kit lazy sign-in');
  const sync = await portalSignIn(rig, browser, login);
  for (const beacon of beacons(rig, sync)) await (await browser.get(beacon)).arrayBuffer();
  // A sync code is single-use: the same beacon again must be refused.
  const [first] = beacons(rig, sync);
  if (first) {
    browser.flow = 'sync code replay';
    const again = await browser.get(first);
    await again.arrayBuffer();
    if (again.status < 400) recording.last().problems.push('double-spent sync code');
    browser.flow = 'kit lazy sign-in';
  }
  const hosts = [new URL(proxyUrl).host, new URL(subsiteUrl).host];
  let page;
  try {
    page = await browser.follow(`${subsiteUrl}/page`, hosts, 10);
  } catch (error) {
    recording.record('kit lazy sign-in', 'GET /page (redirects)', Date.now(), 0, ['redirect loop'], false);
    throw error;
  }
  const signedIn = page.response.status === 200 && page.body.includes(`Signed in as ${login}`);
  recording.record('kit lazy sign-in', 'page shows the user', Date.now(), page.response.status, [], signedIn);
  browser.flow = 'kit sign-out';
  const out = await portalSignOut(rig, browser);
  for (const beacon of beacons(rig, out)) await (await browser.get(beacon)).arrayBuffer();
  const after = await browser.follow(`${subsiteUrl}/page`, hosts, 10);
  recording.record('kit sign-out', 'page after sign-out', Date.now(), after.response.status, after.body.includes('Signed in as') ? ['still signed in at the kit'] : [], after.response.status === 200 && !after.body.includes('Signed in as'));
}
