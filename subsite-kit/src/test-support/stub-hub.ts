/**
 * A tiny stand-in for the hub in tests: discovery, JWKS, /auth (answers at once, like a hub
 * with a live session and remembered consent), /token (Basic auth, PKCE check), and helpers to
 * sign sync codes and hub tokens. Listens on an ephemeral 127.0.0.1 port.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, beforeEach } from '@jest/globals';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export const HUB_URL = 'http://hub.test';
export const CLIENT_ID = 'bbs';
export const CLIENT_SECRET = 'bbs-client-secret';
export const REDIRECT_URI = 'http://bbs.test/sso/callback';
export const SYNC_KEY = 'sync-key-for-bbs-0123456789abcdef0123456789';
export const SESSION_SECRET = 'session-secret-0123456789abcdef0123456789';

export interface StubUser {
  sub: string;
  name?: string;
  preferred_username?: string;
  email?: string;
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce: string;
  user: StubUser;
  sid: string;
}

export interface StubHub {
  /** http://127.0.0.1:port — the kit's hubInternalUrl. */
  url: string;
  /** Requests per path since the last reset. */
  counts: Record<string, number>;
  resetCounts(): void;
  /** The user the hub has signed in, or undefined for "no hub session" (login_required). */
  user: StubUser | undefined;
  sid: string;
  /** Overrides merged into the next ID tokens (e.g. a wrong nonce or audience). */
  idTokenOverrides: JWTPayload;
  /** Makes /jwks answer an HTML 500 page (a hub restarting behind its proxy). */
  jwksFails: boolean;
  /** Makes /token fail with 500: JSON `server_error`, or with `'html'` an HTML error page (a proxy's, a crashed hub's). */
  tokenFails: boolean | 'html';
  /** RFC 9207: discovery says `authorization_response_iss_parameter_supported` and /auth adds `iss` (as the real hub does). */
  issParameter: boolean;
  /**
   * Endpoints the hub moved (an upgrade, another mount path), `/token` and/or `/jwks`: discovery
   * names them under `/v2`, and the old paths answer an HTML 404 (as the hub's portal does).
   */
  moved: Set<'/token' | '/jwks'>;
  /** Signs a JWT with the hub's key (for userdelete / back-channel tokens). */
  sign(claims: JWTPayload, typ: string | undefined, key?: CryptoKey): Promise<string>;
  /** Rotates the signing key: publishes a new one (`hub-key-2`, `hub-key-3`, …) and signs with it from now on. */
  rotate(): Promise<void>;
  /** A key pair the hub does NOT publish (for forged tokens). */
  foreignKey: CryptoKey;
  close(): Promise<void>;
}

/** Follows the kit's redirect to the hub like a browser and returns the callback path + query. */
export async function browserAtHub(hub: StubHub, location: string): Promise<string> {
  const url = new URL(location);
  if (url.origin !== HUB_URL) throw new Error(`expected a redirect to the hub, got ${location}`);
  const response = await fetch(`${hub.url}${url.pathname}${url.search}`, { redirect: 'manual' });
  const back = new URL(response.headers.get('location') ?? '');
  if (`${back.origin}${back.pathname}` !== REDIRECT_URI) throw new Error(`hub redirected elsewhere: ${back.href}`);
  return `${back.pathname}${back.search}`;
}

export async function startStubHub(): Promise<StubHub> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const foreign = await generateKeyPair('RS256');
  const jwks: JWK[] = [{ ...(await exportJWK(publicKey)), kid: 'hub-key-1', alg: 'RS256', use: 'sig' }];
  let signing = { kid: 'hub-key-1', privateKey };
  const codes = new Map<string, IssuedCode>();
  const app = express();

  const hub: StubHub = {
    url: '',
    counts: {},
    resetCounts() { this.counts = {}; },
    user: { sub: 'user-1', name: 'Ada Lovelace', preferred_username: 'ada', email: 'ada@example.test' },
    sid: 'hub-sid-1',
    idTokenOverrides: {},
    tokenFails: false,
    issParameter: false,
    moved: new Set(),
    jwksFails: false,
    foreignKey: foreign.privateKey,
    async sign(claims, typ, key = signing.privateKey) {
      return new SignJWT(claims).setProtectedHeader(typ ? { alg: 'RS256', kid: signing.kid, typ } : { alg: 'RS256', kid: signing.kid }).sign(key);
    },
    async rotate() {
      const next = await generateKeyPair('RS256');
      const kid = `hub-key-${jwks.length + 1}`;
      jwks.push({ ...(await exportJWK(next.publicKey)), kid, alg: 'RS256', use: 'sig' });
      signing = { kid, privateKey: next.privateKey };
    },
    close: async () => undefined,
  };

  app.use((req, _res, next) => {
    hub.counts[req.path] = (hub.counts[req.path] ?? 0) + 1;
    next();
  });
  // Where the token endpoint and the JWKS are today: the other place is a 404, as at a real hub.
  app.use((req, res, next) => {
    const path = req.path.replace(/^\/v2\//, '/') as '/token' | '/jwks';
    const moved = path !== req.path;
    if ((path === '/token' || path === '/jwks') && moved !== hub.moved.has(path)) return res.status(404).type('html').send('<!doctype html><title>Not found</title><p>That page does not exist.');
    if (moved) req.url = req.url.slice('/v2'.length);
    return next();
  });
  app.get('/.well-known/openid-configuration', (_req, res) => {
    res.json({
      issuer: HUB_URL,
      authorization_endpoint: `${HUB_URL}/auth`,
      token_endpoint: `${HUB_URL}${hub.moved.has('/token') ? '/v2' : ''}/token`,
      jwks_uri: `${HUB_URL}${hub.moved.has('/jwks') ? '/v2' : ''}/jwks`,
      end_session_endpoint: `${HUB_URL}/session/end`,
      userinfo_endpoint: `${HUB_URL}/me`,
      ...(hub.issParameter ? { authorization_response_iss_parameter_supported: true } : {}),
    });
  });
  app.get('/jwks', (_req, res) => {
    if (hub.jwksFails) return res.status(500).type('html').send('<!doctype html><title>Internal Server Error</title><h1>Something went wrong</h1>');
    return res.json({ keys: jwks });
  });
  app.get('/auth', (req, res) => {
    const q = req.query as Record<string, string>;
    const back = new URL(q.redirect_uri!);
    back.searchParams.set('state', q.state!);
    if (hub.issParameter) back.searchParams.set('iss', HUB_URL);
    if (q.code_challenge_method !== 'S256' || !q.code_challenge || !q.nonce) {
      back.searchParams.set('error', 'invalid_request');
    } else if (!hub.user) {
      back.searchParams.set('error', q.prompt === 'none' ? 'login_required' : 'access_denied');
    } else {
      const code = randomBytes(16).toString('base64url');
      codes.set(code, { clientId: q.client_id!, redirectUri: q.redirect_uri!, challenge: q.code_challenge, nonce: q.nonce, user: hub.user, sid: hub.sid });
      back.searchParams.set('code', code);
    }
    res.redirect(302, back.href);
  });
  app.post('/token', express.urlencoded({ extended: false }), async (req, res) => {
    if (hub.tokenFails === 'html') return res.status(500).type('html').send('<!doctype html><title>Internal Server Error</title><h1>Something went wrong</h1>');
    if (hub.tokenFails) return res.status(500).json({ error: 'server_error' });
    const basic = /^Basic (.+)$/.exec(req.get('authorization') ?? '')?.[1];
    const [id, secret] = Buffer.from(basic ?? '', 'base64').toString().split(':').map(decodeURIComponent);
    if (id !== CLIENT_ID || secret !== CLIENT_SECRET) return res.status(401).json({ error: 'invalid_client' });
    const body = req.body as Record<string, string>;
    const issued = codes.get(body.code ?? '');
    codes.delete(body.code ?? '');
    if (!issued || body.grant_type !== 'authorization_code' || body.redirect_uri !== issued.redirectUri || issued.clientId !== id) {
      return res.status(400).json({ error: 'invalid_grant' });
    }
    if (createHash('sha256').update(body.code_verifier ?? '').digest('base64url') !== issued.challenge) {
      return res.status(400).json({ error: 'invalid_grant', error_description: 'PKCE verification failed' });
    }
    const now = Math.floor(Date.now() / 1000);
    const idToken = await new SignJWT({
      iss: HUB_URL, aud: CLIENT_ID, iat: now, exp: now + 600,
      ...issued.user, nonce: issued.nonce, sid: issued.sid,
      ...hub.idTokenOverrides,
    })
      .setProtectedHeader({ alg: 'RS256', kid: signing.kid })
      .sign(signing.privateKey);
    return res.json({ access_token: 'at-' + randomBytes(8).toString('hex'), token_type: 'Bearer', expires_in: 3600, id_token: idToken });
  });

  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  hub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  hub.close = () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return hub;
}

/**
 * A stub hub for a whole test file: started before its tests, closed after them, and before each
 * test back to its usual user (Ada), with no ID token overrides and token requests that succeed.
 * `started` receives it once it runs.
 */
export function useStubHub(started: (hub: StubHub) => void): void {
  let hub: StubHub | undefined;
  beforeAll(async () => {
    hub = await startStubHub();
    started(hub);
  });
  afterAll(async () => {
    await hub?.close();
  });
  beforeEach(() => {
    hub!.user = { sub: 'user-1', name: 'Ada Lovelace', preferred_username: 'ada', email: 'ada@example.test' };
    hub!.idTokenOverrides = {};
    hub!.tokenFails = false;
    hub!.moved = new Set();
    hub!.jwksFails = false;
  });
}
