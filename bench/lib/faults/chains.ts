/**
 * Refresh-token chains of the rp client under load: each started with a portal sign-in and the
 * code flow (PKCE), refreshed (a 503 or a lost answer retried with the same token, as a client
 * told to retry does) with userinfo after each; on request, a replay check: the last refresh
 * token spent and the chain's code must not give new tokens.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pkcePair } from '../../../hub/src/testing/flows.js';
import { portalSignIn } from './flows.js';
import { RecordingBrowser, type CallAnswer } from './recording.js';
import { basic, RP_REDIRECT, USERS, type Rig } from './rig.js';
import type { LoadState } from './load.js';

interface Chain {
  refresh: string;
  access: string;
  used: Map<string, string>; // refresh token → the access token its 200 gave
  code: { code: string; verifier: string }; // the code this chain started from (spent)
}

/** The rp client's authorization request (PKCE) in `browser`, signed in already: the code it was given (null: none) and its verifier. */
export async function authorizationCode(rig: Rig, browser: RecordingBrowser, state: string, nonce: string, { verifier, challenge } = pkcePair()): Promise<{ code: string | null; verifier: string; status: number }> {
  const params = new URLSearchParams({ client_id: 'rp', response_type: 'code', scope: 'openid profile email', redirect_uri: RP_REDIRECT, state, nonce, code_challenge: challenge, code_challenge_method: 'S256' });
  const answer = await browser.follow(`${rig.proxyUrl}/auth?${params}`, [new URL(rig.proxyUrl).host]);
  return { code: new URL(answer.url).searchParams.get('code'), verifier, status: answer.response.status };
}

/** The rp client's code exchange, recorded under `flow`. */
export function exchangeCode(rig: Rig, flow: string, code: string, verifier: string): Promise<CallAnswer> {
  return rig.recording.call(flow, `${rig.proxyUrl}/token`, { method: 'POST', headers: { authorization: basic('rp') }, form: { grant_type: 'authorization_code', code, redirect_uri: RP_REDIRECT, code_verifier: verifier } });
}

/** The rp client's refresh, recorded under `flow`. */
export function refreshToken(rig: Rig, flow: string, token: string): Promise<CallAnswer> {
  return rig.recording.call(flow, `${rig.proxyUrl}/token`, { method: 'POST', headers: { authorization: basic('rp') }, form: { grant_type: 'refresh_token', refresh_token: token } });
}

/** A new refresh chain: portal sign-in and the code flow (PKCE) of the rp client. */
async function newChain(rig: Rig, worker: number): Promise<Chain> {
  const browser = new RecordingBrowser(rig.recording, 'refresh chain start');
  const pkce = pkcePair();
  await portalSignIn(rig, browser, USERS[(worker + 3) % USERS.length]!);
  const { code, verifier, status } = await authorizationCode(rig, browser, `s${worker}`, `n${worker}`, pkce);
  if (!code) throw new Error(`no code (${status})`);
  for (let attempt = 0; ; attempt += 1) {
    const tokens = await exchangeCode(rig, 'code exchange', code, verifier);
    if (tokens.status === 200) {
      return { refresh: String(tokens.json.refresh_token), access: String(tokens.json.access_token), used: new Map(), code: { code, verifier } };
    }
    if (tokens.status !== 503 && tokens.status !== 0) throw new Error(`code exchange ${tokens.status} ${JSON.stringify(tokens.json)}`);
    if (attempt > 20) throw new Error('code exchange kept failing');
    await sleep(500);
  }
}

/** One refresh (retrying a 503 or a lost answer with the same token, as a client told to retry does), then userinfo. */
async function refreshOnce(rig: Rig, state: LoadState, chain: Chain): Promise<'ok' | 'dead'> {
  const { recording } = rig;
  let failedBefore = false;
  for (let attempt = 0; attempt < 40 && state.running; attempt += 1) {
    const answer = await refreshToken(rig, 'refresh', chain.refresh);
    if (answer.status === 200) {
      chain.used.set(chain.refresh, String(answer.json.access_token));
      chain.refresh = String(answer.json.refresh_token);
      chain.access = String(answer.json.access_token);
      const info = await recording.call('userinfo', `${rig.proxyUrl}/me`, { headers: { authorization: `Bearer ${chain.access}` } });
      return info.status === 200 || info.status === 503 || info.status === 0 ? 'ok' : 'dead';
    }
    if (answer.status === 503 || answer.status === 0) {
      failedBefore = true;
      await sleep(answer.status === 503 ? 1_000 : 250);
      continue;
    }
    if (failedBefore && !state.wiped) {
      const last = recording.samples.findLast((sample) => sample.flow === 'refresh')!;
      last.problems.push('token lost after a 503 (neither usable nor reused)');
    }
    return 'dead';
  }
  return 'ok';
}

/** A token already answered 200 must never give new tokens (the same answer again, within 60 s, is allowed). */
async function replayCheck(rig: Rig, chain: Chain): Promise<void> {
  const last = [...chain.used.entries()].at(-1);
  if (!last) return;
  const [token, access] = last;
  const answer = await refreshToken(rig, 'refresh replay', token);
  if (answer.status === 200 && answer.json.access_token !== access) {
    rig.recording.last().problems.push('double-spent refresh token');
  }
  // The chain's code was redeemed long ago: it must be refused (and, being a reuse, revokes the grant).
  const again = await exchangeCode(rig, 'code replay', chain.code.code, chain.code.verifier);
  if (again.status === 200) rig.recording.last().problems.push('double-spent code');
  // A replay that was refused revoked the grant (reuse detection): the chain starts again.
}

/** Chain `index`, refreshed while the load runs; replay-checked (and started again) when `state.replayRequests` holds its index. */
export async function chainWorker(rig: Rig, state: LoadState, index: number): Promise<void> {
  let chain: Chain | undefined;
  while (state.running) {
    try {
      chain ??= await newChain(rig, index);
      if (state.replayRequests.has(index)) {
        state.replayRequests.delete(index);
        await replayCheck(rig, chain);
        chain = undefined;
        continue;
      }
      if ((await refreshOnce(rig, state, chain)) === 'dead') chain = undefined;
      await sleep(100);
    } catch {
      chain = undefined;
      await sleep(300);
    }
  }
}
