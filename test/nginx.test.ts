/**
 * The fleet's nginx configuration (deploy/nginx/hub.conf.template, as docker-compose.yml's
 * `lb` runs it) with Debian's nginx in front of two real hub processes on one Redis:
 * `nginx -t` accepts it, requests are shared round robin, /metrics stays hidden, a portal
 * sign-in works across both replicas, a stopped replica costs no request (its refused
 * connections go to the other), and the compose healthcheck of `lb` passes while a replica
 * lives and fails when none does. `.ci/run` installs nginx; without it (outside CI) this is skipped.
 */
import { jest } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { attribute, inputValue, TestBrowser } from '../hub/src/testing/browser.js';
import { continueUrlOf } from '../hub/src/testing/flows.js';
import { freePort, startHubProcess, waitForOk, type HubProcess } from '../hub/src/testing/hub-process.js';
import { connectRedis } from '../hub/src/store/redis.js';
import { TEST_REDIS_URL } from '../hub/src/testing/test-hub.js';

jest.setTimeout(240_000);

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NGINX = '/usr/sbin/nginx';
const METRICS_TOKEN = 'nginx-test-metrics-token-0123456789abcdef';
const USER = { login: 'nina', password: 'behind-nginx-pass-1' };

if (process.env.CI && !existsSync(NGINX)) throw new Error(`${NGINX} is missing: .ci/run installs Debian's nginx for this test`);
const describeWithNginx = existsSync(NGINX) ? describe : describe.skip;

/** The compose file's healthcheck script of `lb`, as the container's bash runs it (`$$` is compose's escape of `$`). */
function lbHealthcheck(): string {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, { healthcheck: { test: string[] } }> };
  const test = compose.services.lb!.healthcheck.test;
  expect(test.slice(0, 3)).toEqual(['CMD', 'bash', '-c']);
  return test[3]!.replace(/\$\$/g, '$');
}

describeWithNginx('deploy/nginx/hub.conf.template with Debian\'s nginx in front of two hub processes (Redis)', () => {
  const prefix = `test:nginx:${randomUUID()}:`;
  const dir = mkdtempSync(join(tmpdir(), 'sso-nginx-'));
  let port: number;
  let url: string;
  let nginx: ChildProcess | undefined;
  const hubs: HubProcess[] = [];

  const nginxArgs = () => ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')];

  beforeAll(async () => {
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const [first, second] = [await freePort(), await freePort()];
    // What the nginx image's envsubst does with ${HUB_PORT}, plus loopback addresses for the
    // compose service names (hub-1, hub-2) that do not resolve here.
    const conf = readFileSync(join(ROOT, 'deploy/nginx/hub.conf.template'), 'utf8')
      .replace('server hub-1:${HUB_PORT}', `server 127.0.0.1:${first}`)
      .replace('server hub-2:${HUB_PORT}', `server 127.0.0.1:${second}`)
      .replace('listen ${HUB_PORT};', `listen 127.0.0.1:${port};`)
      .replace('access_log /var/log/nginx/access.log sso_hub;', `access_log ${join(dir, 'access.log')} sso_hub;`);
    expect(conf.split('\n').filter((line) => !line.trim().startsWith('#') && line.includes('${'))).toEqual([]);
    const temp = join(dir, 'temp');
    mkdirSync(temp);
    chmodSync(dir, 0o755);
    chmodSync(temp, 0o777); // nginx's workers drop root (to nobody) and write their buffers here
    writeFileSync(join(dir, 'hub.conf'), conf);
    writeFileSync(join(dir, 'nginx.conf'), [
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      'events { worker_connections 256; }',
      'http {',
      // As the nginx image's own nginx.conf has it: the `main` format logs "$request", query included.
      `  log_format main '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for"';`,
      `  access_log ${join(dir, 'access.log')} main;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${join(temp, kind)};`),
      `  include ${join(dir, 'hub.conf')};`,
      '}',
      '',
    ].join('\n'));

    const seedFile = join(dir, 'seed.yaml');
    writeFileSync(seedFile, stringify({ users: [{ username: USER.login, email: 'nina@example.test', password: USER.password }] }));
    const env = {
      REDIS_URL: TEST_REDIS_URL,
      KEY_PREFIX: prefix,
      HUB_ISSUER: url,
      HUB_TRUST_PROXY: 'true',
      HUB_SEED_FILE: seedFile,
      METRICS_TOKEN,
    };
    hubs.push(await startHubProcess({ ...env, HUB_PORT: String(first) }));
    hubs.push(await startHubProcess({ ...env, HUB_PORT: String(second) }));
    nginx = spawn(NGINX, [...nginxArgs(), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    await waitForOk(`${url}/healthz`, 30_000);
  });

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx!.once('exit', resolve));
      nginx.kill('SIGQUIT');
      await exited;
    }
    await Promise.all(hubs.map((hub) => hub.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
    const client = await connectRedis(TEST_REDIS_URL);
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length) await client.del(keys);
    await client.quit();
  });

  /** How many GET /healthz a hub process answered 200, from its own /metrics. */
  async function healthzServed(hub: HubProcess): Promise<number> {
    const text = await (await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    const line = text.split('\n').find((entry) => entry.startsWith('sso_http_requests_total{') && entry.includes('route="/healthz"') && entry.includes('status="200"') && entry.includes('method="GET"'));
    return line ? Number(line.split(' ').at(-1)) : 0;
  }

  async function portalSignIn(): Promise<void> {
    const browser = new TestBrowser();
    const host = new URL(url).host;
    const form = await browser.follow(`${url}/login`, [host]);
    expect(form.response.status).toBe(200);
    const action = new URL(attribute(form.body, /action="(\/interaction\/[^"]+\/login)"/), url).toString();
    const answer = await browser.post(action, { _csrf: inputValue(form.body, '_csrf'), ...USER });
    const sync = await answer.text();
    expect(answer.status).toBe(200);
    const account = await browser.follow(continueUrlOf(sync, url), [host]);
    expect(account.response.status).toBe(200);
    expect(new URL(account.url).pathname).toBe('/account');
  }

  function healthcheckPasses(): boolean {
    return spawnSync('bash', ['-c', lbHealthcheck()], { env: { PATH: process.env.PATH ?? '', HUB_PORT: String(port) }, timeout: 10_000 }).status === 0;
  }

  test('nginx -t accepts the configuration', () => {
    const check = spawnSync(NGINX, ['-t', ...nginxArgs()], { encoding: 'utf8' });
    expect(check.stderr).toMatch(/syntax is ok/);
    expect(check.status).toBe(0);
  });

  test('round robin: requests through nginx are shared by both replicas', async () => {
    const before = await Promise.all(hubs.map(healthzServed));
    for (let i = 0; i < 20; i += 1) {
      const response = await fetch(`${url}/healthz`);
      await response.arrayBuffer();
      expect(response.status).toBe(200);
    }
    const served = (await Promise.all(hubs.map(healthzServed))).map((count, i) => count - before[i]!);
    expect(served[0]! + served[1]!).toBe(20);
    for (const count of served) expect(count).toBeGreaterThanOrEqual(5);
  });

  test('/metrics is not served through nginx, even with the token; each replica serves its own', async () => {
    const through = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    await through.arrayBuffer();
    expect(through.status).toBe(404);
    for (const hub of hubs) expect(await healthzServed(hub)).toBeGreaterThan(0);
  });

  test('a portal sign-in through nginx works (round robin: its requests reach both replicas); nginx sends a request id on', async () => {
    await portalSignIn();
    const response = await fetch(`${url}/healthz`);
    await response.arrayBuffer();
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
  });

  test('the access log names paths, never query strings (a GET sign-out carries an ID token; an outside operator review found one in the log)', async () => {
    const hint = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJub2JvZHkifQ.not-a-real-signature';
    const response = await fetch(`${url}/session/end?id_token_hint=${hint}&client_secret=query-secret-0123`, { redirect: 'manual' });
    await response.arrayBuffer();
    // nginx writes the line once the answer is sent; give it a moment.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const log = readFileSync(join(dir, 'access.log'), 'utf8');
    expect(log).toMatch(/"GET \/session\/end HTTP\/1\.1" \d{3} /);
    expect(log).not.toContain(hint);
    expect(log).not.toContain('query-secret-0123');
    expect(log).not.toContain('id_token_hint');
  });

  test('with one replica stopped every request is still answered, and lb\'s compose healthcheck passes; with none it fails', async () => {
    expect(healthcheckPasses()).toBe(true);
    expect(await hubs[0]!.stop('SIGTERM')).toBe(0);
    for (let i = 0; i < 10; i += 1) {
      const response = await fetch(`${url}/healthz`);
      await response.arrayBuffer();
      expect(response.status).toBe(200);
    }
    await portalSignIn();
    expect(healthcheckPasses()).toBe(true);
    expect(await hubs[1]!.stop('SIGTERM')).toBe(0);
    expect(healthcheckPasses()).toBe(false);
  });
});
