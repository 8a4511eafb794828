/**
 * Store-fault sweep. The rule (DESIGN.md "Store", README "Redis client and store deadlines"):
 * a store call (express-session's store = connect-redis, or the kit's KitStore: sync-code and
 * hub-token claims, the session indexes, refresh locks) that fails or stalls gives a clear 503
 * (the kit's HTML page for page views, `{"error":"temporarily_unavailable"}` for the rest),
 * never a 500 with a stack trace, a hang or a redirect loop; nothing half-done breaks a later
 * retry; once the store is back the user carries on. Hub → subsite POSTs answer non-2xx on a
 * failure and a retry (a fresh token, as the hub's delivery queue signs one per attempt)
 * completes the work.
 *
 * `createSubsiteKit` has no store injection point besides `redis`, so the faults are injected
 * in a Proxy over a real node-redis client (the test Redis, keys under a unique prefix): each
 * command is named after the store call it serves (`session get`, `claim sync-jti`, `index add
 * user-sessions`, …). For each flow, a healthy run records the sequence of store calls; then
 * the flow is replayed once per call with the store failing from that call on:
 *  - fail:  every call from there on rejects at once (Redis down, `disableOfflineQueue`);
 *  - stall: every call from there on is held and reaches Redis only once the store is healed,
 *           in order, its late answer dropped by the kit (a paused or overloaded Redis);
 *  - blip:  only that one call rejects (a single failed command, e.g. during a failover).
 * The answer of the request that hit the fault is checked, the store healed, and the recovery
 * checked: the retry a browser or the hub would make, the user's state, and that every live
 * session is still listed in the indexes a forced logout uses.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import express from 'express';
import type { RedisClientType } from 'redis';
import { createSubsiteKit } from './kit.js';
import { KitKeys } from './store/keys.js';
import { BACKCHANNEL_LOGOUT_EVENT } from './hub-token.js';
import { cleanUpTestRedis, connectTestRedis } from './test-support/redis.js';
import { kitOptions } from './test-support/site.js';
import { makeSyncCode, syncPath } from './test-support/sync-codes.js';
import { startStubHub, CLIENT_ID, HUB_URL, REDIRECT_URI, type StubHub } from './test-support/stub-hub.js';

const STORE_TIMEOUT_MS = 200; // the kit's storeTimeoutMs, low to keep the sweep fast
const HUB_TIMEOUT_MS = 1_000;
/** The kit's refresh lock TTL with these timeouts (request-api.ts: 2 hub timeouts + a store timeout + 1 s, in whole seconds). */
const REFRESH_LOCK_MS = (Math.ceil((2 * HUB_TIMEOUT_MS + STORE_TIMEOUT_MS) / 1000) + 1) * 1000;
const SLOW_MS = 2_000; // an answer later than this is too slow for "within the deadline"
const HANG_MS = 4_000; // no answer by then: a hang
const SITE_ORIGIN = new URL(REDIRECT_URI).origin;
const prefix = `sso-kit-test:${randomUUID()}:`;
const keys = new KitKeys(prefix);
const VERBOSE = process.env.SWEEP_VERBOSE === '1';

// ---------------------------------------------------------------------------------------------
// Fault injection
// ---------------------------------------------------------------------------------------------

type Mode = 'fail' | 'stall';
interface Plan { at: number; mode: Mode; blip: boolean }

/** Counts the store calls made while active and fails or stalls them as planned. */
class StoreFaults {
  active = false;
  /** Labels of the store calls made since `start`. */
  calls: string[] = [];
  /** Labels of the calls that were failed or stalled. */
  faulted: string[] = [];
  /** Client methods the kit called that the sweep does not know (would escape the sweep). */
  unexpected: string[] = [];
  #plan: Plan | undefined;
  #down = false;
  #held: (() => void)[] = [];
  #late: Promise<unknown>[] = [];

  start(plan?: Plan): void {
    this.active = true;
    this.calls = [];
    this.faulted = [];
    this.#plan = plan;
    this.#down = false;
  }

  run<T>(label: string, exec: () => Promise<T>): Promise<T> {
    if (!this.active) return exec();
    const n = this.calls.push(label) - 1;
    const plan = this.#plan;
    if (!plan || !(n === plan.at || (this.#down && n > plan.at))) return exec();
    if (!plan.blip) this.#down = true;
    this.faulted.push(label);
    if (plan.mode === 'fail') return Promise.reject(new Error(`injected store failure at ${label}`));
    // Stalled: the command reaches Redis only when the store comes back, in order (a paused Redis).
    const late = new Promise<void>((resolve) => this.#held.push(resolve)).then(exec);
    this.#late.push(late.catch(() => undefined));
    return late;
  }

  /** The store is back: held commands run (in order), and nothing fails any more. */
  async heal(): Promise<void> {
    this.active = false;
    this.#plan = undefined;
    this.#down = false;
    for (const release of this.#held.splice(0)) release();
    await Promise.all(this.#late.splice(0));
  }
}

/** The part of a key after the prefix and before the next ':' (`sess`, `sync-jti`, `user-sessions`, …). */
function kindOf(key: unknown): string {
  const text = String(Array.isArray(key) ? key[0] : key);
  return text.startsWith(prefix) ? text.slice(prefix.length).split(':')[0]! : 'foreign-key';
}

const KNOWN_PASS_THROUGH = new Set(['on', 'off', 'once', 'emit', 'removeListener', 'addListener', 'listenerCount']);

/** A Proxy over a node-redis client that routes the commands the kit uses through `faults`. */
function faultyRedis(real: RedisClientType, faults: StoreFaults): RedisClientType {
  const session = (key: unknown) => kindOf(key) === 'sess';
  /* eslint-disable @typescript-eslint/no-explicit-any */
  const r = real as any;
  const wrapped: Record<string, (...args: any[]) => unknown> = {
    get: (key) => faults.run(session(key) ? 'session get' : `get ${kindOf(key)}`, () => r.get(key)),
    set: (key, value, options) => faults.run(
      session(key) ? 'session set' : options?.condition === 'NX' ? `claim ${kindOf(key)}` : `set ${kindOf(key)}`,
      () => r.set(key, value, options),
    ),
    // The compare-and-delete of a claim whose answer came too late (store/deadline.ts).
    eval: (script, options) => faults.run(`claim release ${kindOf(options?.keys?.[0])}`, () => r.eval(script, options)),
    exists: (key) => faults.run(`claim check ${kindOf(key)}`, () => r.exists(key)),
    del: (key) => faults.run(session(key) ? 'session destroy' : `delete ${kindOf(key)}`, () => r.del(key)),
    expire: (...args) => faults.run(session(args[0]) ? 'session touch' : `expire ${kindOf(args[0])}`, () => r.expire(...args)),
    zRem: (...args) => faults.run(`index remove ${kindOf(args[0])}`, () => r.zRem(...args)),
    zRangeByScore: (...args) => faults.run(`index read ${kindOf(args[0])}`, () => r.zRangeByScore(...args)),
    multi: () => {
      // Queue the chain and run it on a real MULTI at exec(), so exec() is the one store call.
      const queued: [string, unknown[]][] = [];
      const builder: any = new Proxy({}, {
        get: (_target, prop) => {
          if (prop === 'exec') {
            const label = queued[0]?.[0] === 'zAdd' ? `index add ${kindOf(queued[0][1][0])}` : `multi ${queued.map(([name]) => name).join(',')}`;
            return () => faults.run(label, () => {
              let multi = r.multi();
              for (const [name, args] of queued) multi = multi[name](...args);
              return multi.exec();
            });
          }
          return (...args: unknown[]) => {
            queued.push([String(prop), args]);
            return builder;
          };
        },
      });
      return builder;
    },
  };
  return new Proxy(real, {
    get(target, prop) {
      if (typeof prop === 'string' && Object.hasOwn(wrapped, prop)) return wrapped[prop];
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (faults.active && !KNOWN_PASS_THROUGH.has(String(prop))) faults.unexpected.push(String(prop));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as RedisClientType;
  /* eslint-enable @typescript-eslint/no-explicit-any */
}

// ---------------------------------------------------------------------------------------------
// The world: the stub hub behind a front that adds refresh tokens, a site on the kit, browsers
// ---------------------------------------------------------------------------------------------

let stub: StubHub;
let frontServer: Server;
let siteServer: Server;
let site: string;
let redis: RedisClientType;
const faults = new StoreFaults();
const warnings: string[] = [];
const lateErrors: string[] = [];

/** Refresh tokens the front issued: live until spent; a spent one presented again revokes its family (rotation). */
const refreshTokens = new Map<string, { family: string; live: boolean }>();
const revokedFamilies = new Set<string>();
function issueRefreshToken(family: string): string {
  const token = `rt-${randomBytes(12).toString('base64url')}`;
  refreshTokens.set(token, { family, live: true });
  return token;
}

async function startFront(): Promise<string> {
  const front = express();
  front.post('/token', express.urlencoded({ extended: false }), async (req, res) => {
    const body = req.body as Record<string, string>;
    if (body.grant_type === 'refresh_token') {
      if (!req.get('authorization')?.startsWith('Basic ')) return res.status(401).json({ error: 'invalid_client' });
      const entry = refreshTokens.get(body.refresh_token ?? '');
      if (!entry || !entry.live || revokedFamilies.has(entry.family)) {
        if (entry) revokedFamilies.add(entry.family); // reuse of a spent token: the whole grant goes
        return res.status(400).json({ error: 'invalid_grant' });
      }
      entry.live = false;
      return res.json({ access_token: `at-${randomBytes(8).toString('hex')}`, token_type: 'Bearer', expires_in: 3600, refresh_token: issueRefreshToken(entry.family) });
    }
    const answer = await fetch(`${stub.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: req.get('authorization') ?? '' },
      body: new URLSearchParams(body),
    });
    const json = (await answer.json()) as Record<string, unknown>;
    if (answer.ok) json.refresh_token = issueRefreshToken(randomUUID());
    return res.status(answer.status).json(json);
  });
  front.use(async (req, res) => {
    const answer = await fetch(`${stub.url}${req.originalUrl}`);
    res.status(answer.status).type(answer.headers.get('content-type') ?? 'application/json').send(Buffer.from(await answer.arrayBuffer()));
  });
  frontServer = await new Promise<Server>((resolve) => { const s = front.listen(0, '127.0.0.1', () => resolve(s)); });
  return `http://127.0.0.1:${(frontServer.address() as AddressInfo).port}`;
}

async function startSite(frontUrl: string): Promise<void> {
  const sso = await createSubsiteKit(kitOptions(stub, {
    hubInternalUrl: frontUrl,
    redis: faultyRedis(redis, faults),
    redisPrefix: prefix,
    storeTimeoutMs: STORE_TIMEOUT_MS,
    hubTimeoutMs: HUB_TIMEOUT_MS,
    logger: { warn: (line: string) => { warnings.push(line); } },
  }));
  const app = express();
  // One connection per request: Express destroys the socket of a request whose error came after
  // the answer was sent, and a reused connection would make the next request fail at random.
  app.use((_req, res, next) => { res.set('Connection', 'close'); next(); });
  app.use(sso.router);
  app.use(sso.lazyLogin);
  app.get('/forum', (req, res) => { res.type('html').send(`<!doctype html><p>forum for ${req.user?.sub ?? 'anonymous'}</p>`); });
  app.get('/whoami', (req, res) => { res.json({ sub: req.user?.sub ?? null }); });
  // An API route of the site; `refreshBeforeSeconds` larger than any lifetime: always a refresh.
  app.get('/api/token', async (req, res) => { res.json({ token: await req.sso!.accessToken({ refreshBeforeSeconds: 10 ** 9 }) }); });
  app.use(sso.errorHandler);
  // What reaches Express's final handler: an error after the answer was sent (sso.errorHandler
  // passes those on); Express then destroys the connection and, outside tests, logs the stack.
  app.use((error: unknown, req: express.Request, _res: express.Response, next: express.NextFunction) => {
    lateErrors.push(`${req.method} ${req.path}: ${error instanceof Error ? error.message : String(error)}`);
    next(error);
  });
  siteServer = createServer(app);
  await new Promise<void>((resolve) => siteServer.listen(0, '127.0.0.1', resolve));
  site = `http://127.0.0.1:${(siteServer.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  redis = await connectTestRedis();
  stub = await startStubHub();
  await startSite(await startFront());
});

afterAll(async () => {
  await faults.heal();
  siteServer?.closeAllConnections();
  await new Promise<void>((resolve) => (siteServer ? siteServer.close(() => resolve()) : resolve()));
  frontServer?.closeAllConnections();
  await new Promise<void>((resolve) => (frontServer ? frontServer.close(() => resolve()) : resolve()));
  await stub?.close();
  if (redis) await cleanUpTestRedis(redis, prefix);
});

interface Answer {
  status: number; // 0: no answer (hang, reset)
  contentType: string;
  location: string | undefined;
  setCookies: string[];
  text: string;
  ms: number;
  failure: string | undefined;
}

const PAGE = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
const IMAGE = { accept: 'image/avif,image/webp,*/*;q=0.8', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' };
const JSON_ACCEPT = { accept: 'application/json' };

/** A browser (or the hub's delivery worker): a cookie jar over fetch, redirects not followed. */
class Browser {
  readonly jar = new Map<string, string>();
  constructor(readonly name: string) {}

  async send(path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.jar.size > 0) headers.cookie = [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const answer = await rawRequest(`${site}${path}`, init.method ?? 'GET', headers, init.body);
    for (const line of answer.setCookies) {
      const pair = line.split(';')[0]!;
      const name = pair.slice(0, pair.indexOf('=')).trim();
      if (/expires=thu, 01 jan 1970/i.test(line) || /max-age=0\b/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, pair.slice(pair.indexOf('=') + 1).trim());
    }
    return answer;
  }

  page(path: string): Promise<Answer> { return this.send(path, { headers: PAGE }); }
  has(cookie: string): boolean { return this.jar.has(`sso.${cookie}`); }

  /** The signed-in user's sub, null when anonymous, undefined (see `last`) when /whoami fails. */
  async whoami(): Promise<string | null | undefined> {
    const answer = await this.send('/whoami', { headers: JSON_ACCEPT });
    this.last = answer;
    return answer.status === 200 ? (JSON.parse(answer.text) as { sub: string | null }).sub : undefined;
  }
  last: Answer | undefined;
}

/**
 * One HTTP request with node:http (Node's fetch adds `Sec-Fetch-Mode: cors` to every request,
 * which the kit rightly takes for a script's call, never a page view).
 */
function rawRequest(url: string, method: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const started = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answer: Omit<Answer, 'ms'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...answer, ms: Date.now() - started });
    };
    const request = httpRequest(url, { method, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (response) => {
      const chunks: Buffer[] = [];
      const head = {
        status: response.statusCode ?? 0,
        contentType: String(response.headers['content-type'] ?? ''),
        location: response.headers.location,
        setCookies: response.headers['set-cookie'] ?? [],
      };
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => finish({ ...head, text: Buffer.concat(chunks).toString('utf8'), failure: undefined }));
      response.on('error', (error) => finish({ ...head, text: Buffer.concat(chunks).toString('utf8'), failure: `body cut off: ${error.message}` }));
      response.on('aborted', () => finish({ ...head, text: Buffer.concat(chunks).toString('utf8'), failure: 'body cut off (connection closed)' }));
    });
    request.setTimeout(HANG_MS, () => {
      request.destroy();
      finish({ status: 0, contentType: '', location: undefined, setCookies: [], text: '', failure: `no answer within ${HANG_MS} ms (hang)` });
    });
    request.on('error', (error) => finish({ status: 0, contentType: '', location: undefined, setCookies: [], text: '', failure: `no answer: ${error.message}` }));
    request.end(body);
  });
}

function describeAnswer(a: Answer): string {
  if (a.status === 0) return a.failure ?? 'no answer';
  const cookies = a.setCookies.map((line) => `${line.split('=')[0]}${/1970/.test(line) ? '(deleted)' : ''}`);
  const body = a.text.replace(/\s+/g, ' ').slice(0, 140);
  return `${a.status} ${a.contentType.split(';')[0]}${a.location ? ` Location=${a.location.slice(0, 60)}` : ''}${cookies.length ? ` Set-Cookie=[${cookies.join(',')}]` : ''} ${a.ms}ms body=${JSON.stringify(body)}${a.failure ? ` (${a.failure})` : ''}`;
}

/** The browser at the hub: the stub's /auth answers at once and sends it back to the callback. */
async function atHub(location: string): Promise<string> {
  const url = new URL(location);
  if (url.origin !== HUB_URL) throw new Error(`expected a redirect to the hub, got ${location}`);
  const response = await fetch(`${stub.url}${url.pathname}${url.search}`, { redirect: 'manual' });
  const back = new URL(response.headers.get('location') ?? '');
  if (`${back.origin}${back.pathname}` !== REDIRECT_URI) throw new Error(`hub redirected elsewhere: ${back.href}`);
  return `${back.pathname}${back.search}`;
}

/** Follows redirects like a browser (through the hub); counts the trips to the hub. */
async function navigate(browser: Browser, path: string): Promise<{ final: Answer; hubTrips: number }> {
  let hubTrips = 0;
  let next = path;
  for (let hop = 0; hop < 8; hop += 1) {
    const answer = await browser.page(next);
    if (answer.status < 300 || answer.status >= 400 || !answer.location) return { final: answer, hubTrips };
    if (answer.location.startsWith(HUB_URL)) {
      hubTrips += 1;
      if (answer.location.startsWith(`${HUB_URL}/auth`)) next = await atHub(answer.location);
      else return { final: answer, hubTrips };
    } else {
      next = answer.location.startsWith(SITE_ORIGIN) ? answer.location.slice(SITE_ORIGIN.length) : answer.location;
    }
  }
  throw new Error(`redirect loop from ${path}`);
}

let userCounter = 0;
function newUser(): string {
  userCounter += 1;
  return `sweep-user-${userCounter}`;
}

/** Signs a browser in through /sso/login (store healthy, not counted). */
async function signIn(browser: Browser, sub: string, sid: string): Promise<void> {
  stub.user = { sub, name: 'Sweep', preferred_username: sub, email: `${sub}@example.test` };
  stub.sid = sid;
  const { final } = await navigate(browser, '/sso/login?next=/forum');
  if (final.status !== 200 || (await browser.whoami()) !== sub) throw new Error(`setup: could not sign ${browser.name} in: ${describeAnswer(final)}`);
}

async function hubToken(claims: Record<string, unknown>, typ: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return stub.sign({ iss: HUB_URL, aud: CLIENT_ID, iat: now, exp: now + 120, jti: randomUUID(), ...claims }, typ);
}

const hubCaller = new Browser('hub');
async function postUserdelete(sub: string): Promise<Answer> {
  return hubCaller.send('/sso/userdelete', { method: 'POST', headers: { authorization: `Bearer ${await hubToken({ sub }, 'userdelete+jwt')}` } });
}
async function postBackchannel(claims: { sub?: string; sid?: string }): Promise<Answer> {
  const token = await hubToken({ ...claims, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } }, 'logout+jwt');
  return hubCaller.send('/sso/backchannel-logout', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ logout_token: token }).toString() });
}

// ---------------------------------------------------------------------------------------------
// Store inspection (the real client, not through the faults)
// ---------------------------------------------------------------------------------------------

async function keysUnderPrefix(): Promise<string[]> {
  const found: string[] = [];
  for await (const batch of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 200 })) found.push(...batch);
  return found;
}

interface StoredSession { id: string; sub: string; hubSid: string | undefined }
async function liveSessions(): Promise<StoredSession[]> {
  const sessionPrefix = keys.sessionPrefix();
  const result: StoredSession[] = [];
  for (const key of (await keysUnderPrefix()).filter((k) => k.startsWith(sessionPrefix))) {
    const raw = await redis.get(key);
    const sso = raw ? (JSON.parse(raw) as { sso?: { user: { sub: string }; hubSid?: string } }).sso : undefined;
    if (sso) result.push({ id: key.slice(sessionPrefix.length), sub: sso.user.sub, hubSid: sso.hubSid });
  }
  return result;
}

/** Every key has a TTL, and every live signed-in session is in the indexes a forced logout reads. */
async function checkStore(v: (message: string) => void): Promise<void> {
  for (const key of await keysUnderPrefix()) {
    if ((await redis.ttl(key)) === -1) v(`store: key ${kindOf(key)} has no TTL`);
  }
  const now = Date.now();
  for (const s of await liveSessions()) {
    const inUser = await redis.zScore(keys.userSessions(s.sub), s.id);
    if (inUser === null || inUser <= now) v(`store: live session of ${s.sub} is missing from the user→sessions index (userdelete cannot end it)`);
    if (s.hubSid) {
      const inSid = await redis.zScore(keys.hubSidSessions(s.hubSid), s.id);
      if (inSid === null || inSid <= now) v(`store: live session of ${s.sub} is missing from the hub sid→sessions index (back-channel logout cannot end it)`);
    }
  }
}

async function clearStore(): Promise<void> {
  const found = await keysUnderPrefix();
  if (found.length > 0) await redis.del(found);
}

// ---------------------------------------------------------------------------------------------
// Flows
// ---------------------------------------------------------------------------------------------

type Check = (message: string) => void;
type Step = (label: string, kind: 'page' | 'json', send: () => Promise<Answer>) => Promise<Answer>;
interface Case { sub: string; sid: string; browsers: Record<string, Browser>; data: Record<string, string> }
interface Flow {
  name: string;
  setup(): Promise<Case>;
  /** The requests under test; `step` stops the act after the request that hit the fault. */
  act(c: Case, step: Step): Promise<void>;
  /** After the store is healed: the retry a browser or the hub would make, and the end state. */
  recover(c: Case, failedStep: string | undefined, v: Check): Promise<void>;
}

function expectStatus(answer: Answer, status: number, what: string): Answer {
  if (answer.status !== status) throw new Error(`${what}: expected ${status}, got ${describeAnswer(answer)}`);
  return answer;
}

/** The user must be signed in, or anonymous with Request-Login (so the next page view checks silently). */
async function expectSaneSignInState(browser: Browser, v: Check): Promise<string | null | undefined> {
  const sub = await browser.whoami();
  if (sub === undefined) v(`after heal /whoami fails: ${describeAnswer(browser.last!)}`);
  else if (sub === null && !browser.has('request-login')) v('after heal the browser is anonymous WITHOUT Request-Login: the hub sign-in no longer reaches this site');
  return sub;
}

async function expectCarriesOnSignedIn(browser: Browser, c: Case, v: Check, path = '/forum'): Promise<void> {
  // A silent check that failed with a 503 holds Request-Login back (`later.<time>`): page views
  // before that time are served without going to the hub; the first one after it checks.
  const held = /^later\.(\d+)$/.exec(browser.jar.get('sso.request-login') ?? '');
  if (held) {
    const early = await navigate(browser, path);
    if (early.hubTrips > 0) v('after heal a page view went to the hub although Request-Login was held back');
  }
  const offset = held ? (Number(held[1]) + 1) * 1000 - Date.now() : 0;
  const realNow = Date.now.bind(Date);
  const clock = offset > 0 ? jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offset) : undefined;
  try {
    const { final, hubTrips } = await navigate(browser, path);
    if (hubTrips > 1) v(`after heal a page view went to the hub ${hubTrips} times (loop)`);
    const sub = await browser.whoami();
    if (final.status !== 200 || sub !== c.sub) v(`after heal a page view of ${path} does not sign the user in: ${describeAnswer(final)}, user=${String(sub)}`);
  } finally {
    clock?.mockRestore();
  }
}

async function expectSignedOut(c: Case, names: string[], v: Check, why: string): Promise<void> {
  for (const name of names) {
    const sub = await c.browsers[name]!.whoami();
    if (sub !== null) v(`${why}: browser ${name} is still signed in (${String(sub)})`);
  }
}

async function syncedLoginCase(): Promise<Case> {
  const c: Case = { sub: newUser(), sid: `hub-sid-${randomUUID()}`, browsers: { A: new Browser('A') }, data: {} };
  stub.user = { sub: c.sub, name: 'Sweep', preferred_username: c.sub, email: `${c.sub}@example.test` };
  stub.sid = c.sid;
  c.data.beacon = syncPath('synclogin', await makeSyncCode({ sid: c.sid }));
  return c;
}

async function lazySignInAct(c: Case, step: Step): Promise<void> {
  const A = c.browsers.A!;
  expectStatus(await step('synclogin beacon', 'json', () => A.send(c.data.beacon!, { headers: IMAGE })), 200, 'beacon');
  const lazy = expectStatus(await step('page view (lazy check)', 'page', () => A.page('/forum')), 302, 'lazy page view');
  const callbackPath = await atHub(lazy.location!);
  expectStatus(await step('callback', 'page', () => A.page(callbackPath)), 302, 'callback');
  expectStatus(await step('next page view', 'page', () => A.page('/forum')), 200, 'next page view');
}

async function lazySignInRecover(c: Case, failedStep: string | undefined, v: Check): Promise<void> {
  const A = c.browsers.A!;
  if (failedStep === 'synclogin beacon') {
    // The browser (or the hub's page) loads the same beacon again, within the code's lifetime.
    const retry = await A.send(c.data.beacon!, { headers: IMAGE });
    if (retry.status !== 200) v(`retrying the beacon after heal: ${describeAnswer(retry)}`);
  }
  const sub = await expectSaneSignInState(A, v);
  if (sub !== c.sub) await expectCarriesOnSignedIn(A, c, v);
}

const FLOWS: Flow[] = [
  {
    name: '1 synclogin beacon → lazy sign-in',
    setup: syncedLoginCase,
    act: lazySignInAct,
    recover: lazySignInRecover,
  },
  {
    name: '1b synclogin over a stale session (other hub sid) → lazy sign-in',
    async setup() {
      const c = await syncedLoginCase();
      await signIn(c.browsers.A!, c.sub, `hub-sid-old-${randomUUID()}`);
      stub.sid = c.sid;
      return c;
    },
    act: lazySignInAct,
    recover: lazySignInRecover,
  },
  {
    name: '2 /sso/login → callback',
    async setup() {
      const c: Case = { sub: newUser(), sid: `hub-sid-${randomUUID()}`, browsers: { A: new Browser('A') }, data: {} };
      stub.user = { sub: c.sub, name: 'Sweep', preferred_username: c.sub, email: `${c.sub}@example.test` };
      stub.sid = c.sid;
      return c;
    },
    async act(c, step) {
      const A = c.browsers.A!;
      const login = expectStatus(await step('login', 'page', () => A.page('/sso/login?next=/forum')), 302, 'login');
      const callbackPath = await atHub(login.location!);
      expectStatus(await step('callback', 'page', () => A.page(callbackPath)), 302, 'callback');
      expectStatus(await step('next page view', 'page', () => A.page('/forum')), 200, 'next page view');
    },
    async recover(c, _failedStep, v) {
      const A = c.browsers.A!;
      const sub = await A.whoami();
      if (sub === undefined) v(`after heal /whoami fails: ${describeAnswer(A.last!)}`);
      // An interactive sign-in that failed: the user clicks "Sign in" again.
      if (sub !== c.sub) await expectCarriesOnSignedIn(A, c, v, '/sso/login?next=/forum');
    },
  },
  {
    name: '3a POST /sso/logout',
    async setup() {
      const c: Case = { sub: newUser(), sid: `hub-sid-${randomUUID()}`, browsers: { A: new Browser('A') }, data: {} };
      await signIn(c.browsers.A!, c.sub, c.sid);
      return c;
    },
    async act(c, step) {
      const A = c.browsers.A!;
      expectStatus(await step('logout', 'json', () => A.send('/sso/logout', {
        method: 'POST',
        headers: { ...PAGE, 'sec-fetch-site': 'same-origin', origin: SITE_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
        body: '',
      })), 303, 'logout');
    },
    async recover(c, _failedStep, v) {
      const A = c.browsers.A!;
      // The user presses "Sign out" again.
      const retry = await A.send('/sso/logout', { method: 'POST', headers: { ...PAGE, 'sec-fetch-site': 'same-origin', origin: SITE_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
      if (retry.status !== 303) v(`retrying logout after heal: ${describeAnswer(retry)}`);
      await expectSignedOut(c, ['A'], v, 'after logout');
      if ((await liveSessions()).some((s) => s.sub === c.sub)) v('after logout a session of the user is still stored');
    },
  },
  {
    name: '3b synclogout beacon',
    async setup() {
      const c: Case = { sub: newUser(), sid: `hub-sid-${randomUUID()}`, browsers: { A: new Browser('A'), B: new Browser('B') }, data: {} };
      await signIn(c.browsers.A!, c.sub, c.sid);
      await signIn(c.browsers.B!, c.sub, c.sid); // another browser session under the same hub session
      c.data.beacon = syncPath('synclogout', await makeSyncCode({ act: 'logout', sid: c.sid }));
      return c;
    },
    async act(c, step) {
      expectStatus(await step('synclogout beacon', 'json', () => c.browsers.A!.send(c.data.beacon!, { headers: IMAGE })), 200, 'synclogout');
    },
    async recover(c, failedStep, v) {
      let retry: Answer | undefined;
      if (failedStep) retry = await c.browsers.A!.send(c.data.beacon!, { headers: IMAGE });
      const why = `after heal${retry ? ` and a retry of the same beacon (${describeAnswer(retry).slice(0, 60)})` : ''}`;
      await expectSignedOut(c, ['A', 'B'], v, why);
    },
  },
  {
    name: '4a POST /sso/userdelete',
    async setup() {
      const c: Case = { sub: newUser(), sid: `hub-sid-${randomUUID()}`, browsers: { A: new Browser('A'), B: new Browser('B') }, data: {} };
      await signIn(c.browsers.A!, c.sub, c.sid);
      await signIn(c.browsers.B!, c.sub, `hub-sid-${randomUUID()}`);
      return c;
    },
    async act(c, step) {
      expectStatus(await step('userdelete', 'json', () => postUserdelete(c.sub)), 200, 'userdelete');
    },
    async recover(c, failedStep, v) {
      if (failedStep) {
        // The hub's delivery queue retries with a freshly signed token until a 2xx.
        const retry = await postUserdelete(c.sub);
        if (retry.status !== 200) v(`the hub's retry after heal: ${describeAnswer(retry)}`);
      }
      await expectSignedOut(c, ['A', 'B'], v, 'after userdelete');
      if ((await liveSessions()).some((s) => s.sub === c.sub)) v('after userdelete a session of the user is still stored');
    },
  },
  {
    name: '4b POST /sso/backchannel-logout (sid)',
    async setup() {
      const c: Case = { sub: newUser(), sid: `hub-sid-${randomUUID()}`, browsers: { A: new Browser('A'), B: new Browser('B'), C: new Browser('C') }, data: {} };
      await signIn(c.browsers.A!, c.sub, c.sid);
      await signIn(c.browsers.B!, c.sub, c.sid);
      await signIn(c.browsers.C!, c.sub, `hub-sid-other-${randomUUID()}`);
      return c;
    },
    async act(c, step) {
      expectStatus(await step('backchannel-logout', 'json', () => postBackchannel({ sub: c.sub, sid: c.sid })), 200, 'backchannel-logout');
    },
    async recover(c, failedStep, v) {
      if (failedStep) {
        const retry = await postBackchannel({ sub: c.sub, sid: c.sid });
        if (retry.status !== 200) v(`the hub's retry after heal: ${describeAnswer(retry)}`);
      }
      await expectSignedOut(c, ['A', 'B'], v, 'after back-channel logout');
      if ((await liveSessions()).some((s) => s.hubSid === c.sid)) v('after back-channel logout a session of that hub sid is still stored');
      if ((await c.browsers.C!.whoami()) !== c.sub) v('back-channel logout of one hub sid ended the session of another');
    },
  },
  {
    name: '5a signed-in page view',
    async setup() {
      const c: Case = { sub: newUser(), sid: `hub-sid-${randomUUID()}`, browsers: { A: new Browser('A') }, data: {} };
      await signIn(c.browsers.A!, c.sub, c.sid);
      return c;
    },
    async act(c, step) {
      const answer = expectStatus(await step('page view', 'page', () => c.browsers.A!.page('/forum')), 200, 'page view');
      if (!answer.text.includes(`forum for ${c.sub}`)) throw new Error(`page view: not signed in: ${describeAnswer(answer)}`);
    },
    async recover(c, _failedStep, v) {
      const answer = await c.browsers.A!.page('/forum');
      if (answer.status !== 200 || !answer.text.includes(`forum for ${c.sub}`)) v(`after heal the page view is not signed in: ${describeAnswer(answer)}`);
    },
  },
  {
    name: '5b req.sso.accessToken() refresh',
    async setup() {
      const c: Case = { sub: newUser(), sid: `hub-sid-${randomUUID()}`, browsers: { A: new Browser('A') }, data: {} };
      await signIn(c.browsers.A!, c.sub, c.sid);
      return c;
    },
    async act(c, step) {
      expectStatus(await step('accessToken() refresh', 'json', () => c.browsers.A!.send('/api/token', { headers: JSON_ACCEPT })), 200, 'refresh');
    },
    async recover(c, failedStep, v) {
      const A = c.browsers.A!;
      let answer = await A.send('/api/token', { headers: JSON_ACCEPT });
      // A refresh lock the failed request could not delete is held until its TTL (the kit does
      // not take over a lock it could not delete: the delete may have run, and another process
      // may hold the lock now); meanwhile a refresh answers 503. After the TTL it goes ahead.
      if (answer.status === 503) {
        await new Promise((resolve) => setTimeout(resolve, REFRESH_LOCK_MS));
        answer = await A.send('/api/token', { headers: JSON_ACCEPT });
      }
      if (answer.status === 200) return;
      const sub = await A.whoami();
      // NOT HANDLED (a rotated refresh token lost): when the session save right after a refresh
      // fails (`session set`), the new refresh token the hub just issued was only in memory and
      // the stored one is spent, so the next refresh gets invalid_grant and the sign-in is over
      // here. What the kit does then is checked instead of a 200: 401 {"error":"login_required"},
      // the user signed out with Request-Login set, and the next page view signs the user in
      // again silently (one hub trip, no click).
      if (failedStep && faults.faulted[0] === 'session set' && answer.status === 401
        && /"error":"login_required"/.test(answer.text) && sub === null && A.has('request-login')) {
        await expectCarriesOnSignedIn(A, c, v);
        return;
      }
      v(`after heal accessToken() fails: ${describeAnswer(answer)}; user=${String(sub)}, Request-Login=${A.has('request-login')}`);
    },
  },
];

// ---------------------------------------------------------------------------------------------
// The sweep
// ---------------------------------------------------------------------------------------------

class Stop extends Error {}

/**
 * Store calls whose failure the kit ignores on purpose, so a success answer is right; what the
 * leftover does to the next request is checked by the flow's recovery. A failed `session touch`
 * (express-session's TTL refresh at the end of an answer) is counted and logged, never an error:
 * it only skips one TTL refresh.
 */
const IGNORED_BY_DESIGN = new Set(['delete refresh-lock', 'session touch']);

/** What the request that hit the fault must answer. */
function checkFaultAnswer(answer: Answer, kind: 'page' | 'json', faulted: string[], late: string[], v: Check): void {
  if (answer.status === 0) {
    v(`no clean answer: ${answer.failure}`);
    return;
  }
  if (answer.ms > SLOW_MS) v(`answered after ${answer.ms} ms (storeTimeoutMs ${STORE_TIMEOUT_MS})`);
  if (answer.failure) v(`answer broken: ${answer.failure}: ${describeAnswer(answer)}`);
  if (/\n\s+at\s|Error:|node_modules/.test(answer.text)) v(`stack trace or error text in the body: ${describeAnswer(answer)}`);
  if (answer.status !== 503) {
    if (answer.status < 400 && faulted.every((call) => IGNORED_BY_DESIGN.has(call))) return;
    const after = late.length > 0 ? `; the failure came after the answer was sent, Express destroyed the connection (${late.join('; ')})` : '';
    v(`answered ${describeAnswer(answer)} instead of 503${after}`);
    return;
  }
  if (kind === 'page' && !answer.contentType.startsWith('text/html')) v(`a page view got a non-HTML 503: ${describeAnswer(answer)}`);
  if (kind === 'json') {
    let error: unknown;
    try { error = (JSON.parse(answer.text) as { error?: unknown }).error; } catch { error = undefined; }
    if (error !== 'temporarily_unavailable') v(`a non-page request got a 503 without {"error":"temporarily_unavailable"}: ${describeAnswer(answer)}`);
  }
}

const recorded = new Map<string, string[]>();

/** One healthy run with every store call recorded. */
async function record(flow: Flow): Promise<string[]> {
  const known = recorded.get(flow.name);
  if (known) return known;
  const c = await flow.setup();
  faults.start();
  const step: Step = async (_label, _kind, send) => send();
  await flow.act(c, step);
  const calls = [...faults.calls];
  await faults.heal();
  const problems: string[] = [];
  await flow.recover(c, undefined, (m) => problems.push(m));
  await checkStore((m) => problems.push(m));
  await clearStore();
  if (problems.length > 0) throw new Error(`healthy run of ${flow.name} is not healthy: ${problems.join('; ')}`);
  recorded.set(flow.name, calls);
  if (VERBOSE) process.stderr.write(`${flow.name}: ${calls.join(' → ')}\n`);
  return calls;
}

const MODES: [string, Omit<Plan, 'at'>][] = [
  ['fail (store down from that call on)', { mode: 'fail', blip: false }],
  ['stall (store paused from that call on; held calls run late)', { mode: 'stall', blip: false }],
  ['blip (only that call fails)', { mode: 'fail', blip: true }],
];

async function sweep(flow: Flow, modeName: string, mode: Omit<Plan, 'at'>): Promise<string[]> {
  const calls = await record(flow);
  const violations: string[] = [];
  for (let at = 0; at < calls.length; at += 1) {
    const c = await flow.setup();
    faults.start({ at, ...mode });
    let failedStep: string | undefined;
    const where = () => `[${flow.name} | call #${at} ${faults.faulted[0] ?? calls[at]} | ${modeName.split(' ')[0]}]`;
    const v: Check = (message) => violations.push(`${where()} ${failedStep ? `${failedStep}: ` : ''}${message}`);
    const step: Step = async (label, kind, send) => {
      const before = faults.faulted.length;
      lateErrors.length = 0;
      const answer = await send();
      if (faults.faulted.length > before) {
        failedStep = label;
        await new Promise((resolve) => setTimeout(resolve, 20)); // let a late error reach Express
        checkFaultAnswer(answer, kind, faults.faulted.slice(before), lateErrors.splice(0), v);
        if (VERBOSE) process.stderr.write(`${where()} ${label}: ${describeAnswer(answer)}\n`);
        throw new Stop();
      }
      return answer;
    };
    try {
      await flow.act(c, step);
      v(`the fault never hit (the sequence of store calls changed: ${faults.calls.join(' → ')})`);
    } catch (error) {
      if (!(error instanceof Stop)) v(`flow broke before the fault: ${String(error)}`);
    }
    await faults.heal();
    if (faults.unexpected.length > 0) v(`store calls the sweep does not know: ${faults.unexpected.splice(0).join(', ')}`);
    // Until the user or the hub retries, a forced logout must still reach every live session.
    await checkStore((message) => v(`before any retry, ${message}`));
    try {
      await flow.recover(c, failedStep, v);
    } catch (error) {
      v(`recovery broke: ${String(error)}`);
    }
    await checkStore(v);
    await clearStore();
  }
  return violations;
}

describe.each(FLOWS)('store faults: $name', (flow) => {
  it('healthy run (records the store calls)', async () => {
    const calls = await record(flow);
    expect(calls.length).toBeGreaterThan(0);
    expect(faults.unexpected).toEqual([]);
  });

  it.each(MODES)('%s, at each store call in turn', async (modeName, mode) => {
    expect(await sweep(flow, modeName, mode)).toEqual([]);
  }, 60_000);
});
