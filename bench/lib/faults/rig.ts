/**
 * The servers a fault tool puts under load, whatever store the hubs use: two compiled hub
 * processes (`hub/dist-bench-*`, as the image runs them) behind the tests' round-robin proxy
 * (readiness polled like HAProxy), a kit subsite (`bench/servers/fault-subsite.ts`, on the
 * redis-server at `ports.redis`) and a subsite whose `/sso/userdelete` hangs while asked to;
 * the seed they share, and the hub's admin CLI.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { RoundRobinProxy } from '../../../hub/src/testing/round-robin-proxy.js';
import { buildHub } from '../build-hub.js';
import { Children, ROOT, waitFor, type LoggedChild } from './children.js';
import { Recording } from './recording.js';

export const PASSWORD = 'fault-password-0123456789';
export const SECRET = (name: string) => `${name}-secret-0123456789abcdef0123456789`;
export const RP_REDIRECT = 'http://127.0.0.1:9/cb';
/** The users the load signs in (the doomed ones, for faults that delete or disable users, are each tool's). */
export const USERS = Array.from({ length: 12 }, (_, i) => `fault-user-${i}`);

export const basic = (id: string) => `Basic ${Buffer.from(`${id}:${SECRET(id)}`).toString('base64')}`;
export const log = (line: string) => process.stdout.write(`${line}\n`);

/** FAULT_PORT_BASE and the next seven: the kit's redis-server, the proxy, two hubs and their metrics, the kit subsite, the slow subsite. */
export function faultPorts(base: number) {
  return { redis: base, proxy: base + 1, hubA: base + 2, hubB: base + 3, metricsA: base + 4, metricsB: base + 5, subsite: base + 6, slow: base + 7 };
}
export type FaultPorts = ReturnType<typeof faultPorts>;

export type Hub = { name: string; port: number; metrics: number; child: LoggedChild };

export interface RigOptions {
  ports: FaultPorts;
  /** KEY_PREFIX of the hubs (the kit's keys go under `<prefix>forum:`). */
  prefix: string;
  /** Seeded users besides USERS, for the tool's own faults. */
  doomed: string[];
  /** How the hubs reach their store (REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS, …). */
  storeEnv: Record<string, string>;
  /** The hubs' LOG_LEVEL. */
  logLevel: string;
  /** A compiled hub to run; default: the checkout's hub compiled for the run. */
  dist?: string;
  /** Whether a failed admin CLI's result says the last lines it wrote. */
  cliOutput: boolean;
}

export class Rig {
  readonly recording = new Recording();
  readonly children = new Children(this.recording.notes);
  readonly ports: FaultPorts;
  readonly proxyUrl: string;
  readonly subsiteUrl: string;
  readonly slowUrl: string;
  readonly dir = mkdtempSync(join(tmpdir(), 'faults-under-load-'));
  readonly seedFile = join(this.dir, 'seed.yaml');
  readonly dist: string;
  readonly proxy = new RoundRobinProxy([], { readiness: { path: '/readyz', intervalMs: 200 } });
  /** Both hubs; a fault that restarts one puts the new process in its place. */
  readonly hubs: Hub[] = [];
  subsite!: LoggedChild;
  /** The slow subsite: while `hangs`, its userdelete requests are held (in `held`) unanswered. */
  readonly slowSite = { hangs: false, held: [] as ServerResponse[], calls: 0 };
  readonly slow: Server;

  /** Writes the seed and compiles the hub (a few seconds); `start` then starts the servers, once the store is up. */
  constructor(private readonly options: RigOptions) {
    const { ports } = options;
    this.ports = ports;
    this.proxyUrl = `http://127.0.0.1:${ports.proxy}`;
    this.subsiteUrl = `http://127.0.0.1:${ports.subsite}`;
    this.slowUrl = `http://127.0.0.1:${ports.slow}`;
    process.once('exit', () => rmSync(this.dir, { recursive: true, force: true }));
    const { subsiteUrl, slowUrl } = this;
    writeFileSync(this.seedFile, stringify({
      users: [...USERS, ...options.doomed].map((username) => ({ username, email: `${username}@faults.test`, password: PASSWORD })),
      clients: [
        { clientId: 'svc', clientSecret: SECRET('svc'), grantTypes: ['client_credentials'] },
        { clientId: 'rp', clientSecret: SECRET('rp'), redirectUris: [RP_REDIRECT], grantTypes: ['authorization_code', 'refresh_token'], trusted: true },
        {
          clientId: 'forum', clientSecret: SECRET('forum'), name: 'Forum', redirectUris: [`${subsiteUrl}/sso/callback`], postLogoutRedirectUris: [`${subsiteUrl}/`],
          grantTypes: ['authorization_code'], trusted: true, syncLoginUrl: `${subsiteUrl}/sso/synclogin`, syncLogoutUrl: `${subsiteUrl}/sso/synclogout`,
          syncKey: SECRET('forum-sync'), userdeleteUrl: `${subsiteUrl}/sso/userdelete`,
        },
        { clientId: 'slow', clientSecret: SECRET('slow'), name: 'Slow', redirectUris: [`${slowUrl}/cb`], grantTypes: ['authorization_code'], userdeleteUrl: `${slowUrl}/sso/userdelete` },
      ],
    }));
    log('building the hub (tsc)…');
    this.dist = options.dist ?? fileURLToPath(buildHub()!);
    this.slow = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      this.slowSite.calls += 1;
      if (this.slowSite.hangs) this.slowSite.held.push(res);
      else res.writeHead(204).end();
    });
  }

  hubEnv(port: number, metricsPort: number): Record<string, string> {
    return {
      HUB_PORT: String(port),
      HUB_ISSUER: this.proxyUrl,
      HUB_TRUST_PROXY: 'true',
      ...this.options.storeEnv,
      KEY_PREFIX: this.options.prefix,
      HUB_SEED_FILE: this.seedFile,
      LOG_LEVEL: this.options.logLevel,
      LOGIN_MAX_ATTEMPTS_PER_IP: '1000000',
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000000',
      SIGNIN_STARTS_PER_IP: '1000000',
      SHUTDOWN_DELAY_MS: '1000',
      SHUTDOWN_TIMEOUT_MS: '10000',
      METRICS_PORT: String(metricsPort),
      HUB_STORE_CHECK_MS: '1000',
      // Room for every token of the run in the log of tokens issued (the audit check reads them all).
      AUDIT_MAX_TOKEN_ENTRIES: '2000000',
      DELIVERY_BACKOFF_BASE_MS: '500',
      DELIVERY_BACKOFF_MAX_MS: '5000',
      DELIVERY_POLL_MS: '250',
    };
  }

  async startHub(name: string, port: number, metrics: number): Promise<Hub> {
    const child = this.children.spawn(name, process.execPath, [join(this.dist, 'main.js')], this.hubEnv(port, metrics));
    await waitFor(`http://127.0.0.1:${port}/readyz`, 120_000, child);
    return { name, port, metrics, child };
  }

  /** The proxy, both hubs behind it, the kit subsite and the slow one. */
  async start(): Promise<void> {
    const { ports } = this;
    await this.proxy.listen(ports.proxy);
    this.hubs.push(await this.startHub('hub-a', ports.hubA, ports.metricsA));
    this.hubs.push(await this.startHub('hub-b', ports.hubB, ports.metricsB));
    this.proxy.backends = this.hubs.map((hub) => `127.0.0.1:${hub.port}`);
    this.subsite = this.children.spawn('subsite', process.execPath, ['--import', 'tsx', 'bench/servers/fault-subsite.ts'], {
      PORT: String(ports.subsite), REDIS_URL: `redis://127.0.0.1:${ports.redis}`, HUB_URL: this.proxyUrl, CLIENT_ID: 'forum', CLIENT_SECRET: SECRET('forum'),
      SYNC_KEY: SECRET('forum-sync'), SESSION_SECRET: SECRET('forum-session'), REDIS_PREFIX: `${this.options.prefix}forum:`,
    });
    await waitFor(`${this.subsiteUrl}/healthz`, 60_000, this.subsite);
    await new Promise<void>((resolve) => this.slow.listen(ports.slow, '127.0.0.1', resolve));
  }

  /** Runs the compiled admin CLI against the hubs' store (without blocking the load's event loop). */
  hubCli(...args: string[]): Promise<string> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [join(this.dist, 'cli.js'), ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...this.hubEnv(this.ports.hubA, this.ports.metricsA) }, stdio: this.options.cliOutput ? ['ignore', 'pipe', 'pipe'] : 'ignore' });
      let out = '';
      child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
      child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
      child.once('exit', (code) => {
        this.children.noteLeaks(`admin CLI ${args.slice(0, 2).join(' ')}`, out);
        resolve(`${args.slice(0, 2).join(' ')}: exit ${code}${code && this.options.cliOutput ? ` ${out.trim().split('\n').filter((line) => !/Unsupported runtime/.test(line)).slice(-2).join(' | ').slice(0, 300)}` : ''}`);
      });
    });
  }

  /** Stops everything it started, by PID, and removes its files. */
  async stop(): Promise<void> {
    await this.proxy.close();
    this.slow.closeAllConnections();
    this.slow.close();
    await this.children.stopAll();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
