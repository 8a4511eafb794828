import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import { TestBrowser, attribute } from '../hub/src/testing/browser.js';
import { freePort } from '../hub/src/testing/hub-process.js';
import { continueUrlOf, signInAt } from '../hub/src/testing/flows.js';
import { startTestHub, TEST_REDIS_URL, type RunningHub } from '../hub/src/testing/test-hub.js';

/**
 * The kit as npm ships it (STYLE: "what `npm pack` produces is what a user gets"): the tarball
 * is installed into throw-away apps outside the workspace, next to Express 5 or Express 4 and
 * node-redis from the registry, and each consumer runs under plain `node` (no tsx) against the
 * real hub: an ES module, a CommonJS `require` and this README's TypeScript example compiled with
 * `tsc --strict --exactOptionalPropertyTypes`, on each Express major.
 */

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KIT = join(ROOT, 'subsite-kit');
const CONSUMERS = join(ROOT, 'test/kit-consumers');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const PASSWORD = 'wonderland-123';

/** The environment of the npm and node children: none of the `npm_*` settings of the `npm test` running us. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!/^npm_/i.test(name) && !/^SSO_/.test(name)) env[name] = value;
  return { ...env, NO_UPDATE_NOTIFIER: '1', ...extra };
}


/** The first ```ts block of the kit's README: the copy-paste example. */
async function readmeExample(): Promise<string> {
  const readme = await readFile(join(KIT, 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('subsite-kit/README.md has no ```ts example');
  return block[1]!;
}

interface App {
  dir: string;
  express: 4 | 5;
  /** What `tsc -p tsconfig.json` printed for the README example (nothing when it compiled). */
  compiled: string;
}

/** Compiles the app's app.ts (the README example) with its own tsconfig.json. */
async function compile(dir: string): Promise<string> {
  try {
    const { stdout, stderr } = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: dir, env: childEnv() });
    return stdout + stderr;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    return `${stdout ?? ''}${stderr ?? ''}` || String(error);
  }
}

let work: string;
let tarball: string;
let packedFiles: string[];
const apps = new Map<4 | 5, App>();

/** Packs the kit (its prepack script builds dist/) and installs the tarball into one app per Express major. */
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sso-kit-package-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: KIT, env: childEnv(), maxBuffer: 16 * 1024 * 1024 })
    .catch((error: { stdout?: string; message: string }) => { throw new Error(`npm pack (and its build) failed: ${error.message}\n${error.stdout ?? ''}`); });
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('[\n'))) as [{ filename: string; files: { path: string }[] }];
  tarball = join(work, packed.filename);
  packedFiles = packed.files.map((file) => file.path);

  const example = await readmeExample();
  await Promise.all(([5, 4] as const).map(async (major) => {
    const dir = join(work, `express${major}`);
    await mkdir(dir);
    await writeFile(join(dir, 'package.json'), JSON.stringify({
      name: `kit-consumer-express${major}`,
      private: true,
      type: 'module',
      dependencies: {
        '@sso-hub/subsite-kit': `file:${tarball}`,
        express: major === 5 ? '^5.1.0' : '^4.21.2',
        redis: '^6.3.1',
      },
      // The only @types this app asks for; the kit must bring whatever else its .d.ts need.
      devDependencies: {
        '@types/express': major === 5 ? '^5.0.0' : '^4.17.21',
        '@types/node': '^20.19.0',
      },
    }, null, 2));
    await copyFile(join(CONSUMERS, 'esm.mjs'), join(dir, 'esm.mjs'));
    await copyFile(join(CONSUMERS, 'cjs.cjs'), join(dir, 'cjs.cjs'));
    await writeFile(join(dir, 'app.ts'), example);
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true,
        exactOptionalPropertyTypes: true,
        // With Express 5 types every .d.ts is checked too, the kit's included (the slow part, so
        // once); with Express 4 types the example's use of them.
        skipLibCheck: major === 4,
        module: 'nodenext',
        target: 'es2022',
        outDir: 'dist',
        types: ['node'],
      },
      files: ['app.ts'],
    }, null, 2));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: dir, env: childEnv(), maxBuffer: 16 * 1024 * 1024 });
    apps.set(major, { dir, express: major, compiled: await compile(dir) });
  }));
}, 400_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  test('holds package.json, the README and dist/ only: no sources, tests, test support or tsconfig', () => {
    expect(packedFiles).toContain('dist/esm/index.js');
    expect(packedFiles).toContain('dist/esm/index.d.ts');
    expect(packedFiles).toContain('dist/cjs/index.js');
    expect(packedFiles).toContain('dist/cjs/index.d.ts');
    expect(packedFiles).toContain('dist/cjs/package.json');
    const outside = packedFiles.filter((path) => !path.startsWith('dist/') && path !== 'package.json' && path !== 'README.md');
    expect(outside).toEqual([]);
    expect(packedFiles.filter((path) => /\.test\.|test-support|tsconfig|\.ts$/.test(path) && !path.endsWith('.d.ts'))).toEqual([]);
  });

  test('express, redis and prom-client are peers, not bundled copies; the workspace is not needed', async () => {
    const app = apps.get(5)!;
    const manifest = JSON.parse(await readFile(join(app.dir, 'node_modules/@sso-hub/subsite-kit/package.json'), 'utf8')) as Record<string, Record<string, string>>;
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain('express');
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain('redis');
    expect(manifest.peerDependencies).toMatchObject({ express: expect.stringContaining('^4'), redis: expect.any(String) });
    expect(existsSync(join(app.dir, 'node_modules/@sso-hub/subsite-kit/node_modules/express'))).toBe(false);
    expect(existsSync(join(app.dir, 'node_modules/tsx'))).toBe(false);
    // prom-client (the opt-in /metrics) is an optional peer: not installed here, and the sites
    // below run without it (the kit loads it only when asked for metrics).
    expect(manifest.peerDependencies).toMatchObject({ 'prom-client': expect.stringContaining('^15') });
    expect((manifest.peerDependenciesMeta as unknown as Record<string, { optional?: boolean }>)['prom-client']?.optional).toBe(true);
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain('prom-client');
    expect(existsSync(join(app.dir, 'node_modules/prom-client'))).toBe(false);
    const express4 = JSON.parse(await readFile(join(apps.get(4)!.dir, 'node_modules/express/package.json'), 'utf8')) as { version: string };
    expect(express4.version.startsWith('4.')).toBe(true);
  });

  test.each([5, 4] as const)('the README example compiles with tsc --strict --exactOptionalPropertyTypes on Express %i types', (major) => {
    const { dir, compiled } = apps.get(major)!;
    expect(compiled).toBe('');
    expect(existsSync(join(dir, 'dist/app.js'))).toBe(true);
  });
});

describe('consumers of the packed kit against the real hub', () => {
  let hub: RunningHub;
  const redisPrefix = `test:${randomUUID()}:kit-package:`;

  beforeAll(async () => {
    hub = await startTestHub('memory');
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', name: 'Alice', password: PASSWORD });
  });
  afterAll(async () => {
    await hub?.close();
    const redis = createClient({ url: TEST_REDIS_URL });
    await redis.connect();
    for await (const keys of redis.scanIterator({ MATCH: `${redisPrefix}*`, COUNT: 500 })) if (keys.length) await redis.del(keys);
    await redis.quit();
  });

  /** Registers a site at the hub and starts the consumer on a free port with its settings in SSO_* variables. */
  async function startConsumer(app: App, name: string, file: string): Promise<{ url: string; child: ChildProcess; output: () => string }> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const clientId = `${name}-express${app.express}`;
    const client = await hub.services.clients.register({
      clientId,
      name: clientId,
      trusted: true,
      redirectUris: [`${url}/sso/callback`],
      postLogoutRedirectUris: [`${url}/`],
      syncLoginUrl: `${url}/sso/synclogin`,
      syncLogoutUrl: `${url}/sso/synclogout`,
    });
    let output = '';
    const child = spawn(process.execPath, [file], {
      cwd: app.dir,
      env: childEnv({
        PORT: String(port),
        REDIS_URL: TEST_REDIS_URL,
        SSO_HUB_URL: hub.url,
        SSO_CLIENT_ID: clientId,
        SSO_CLIENT_SECRET: client.clientSecret!,
        SSO_REDIRECT_URI: `${url}/sso/callback`,
        SSO_SYNC_KEY: client.sync!.key,
        SSO_SESSION_SECRET: randomUUID() + randomUUID(),
        SSO_REDIS_PREFIX: `${redisPrefix}${clientId}:`,
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${file} exited with ${child.exitCode}:\n${output}`);
      const answered = await fetch(`${url}/`).then(() => true, () => false);
      if (answered) break;
      if (Date.now() > deadline) throw new Error(`${file} did not listen within 30 s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { url, child, output: () => output };
  }

  async function stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  const CONSUMER_FILES = [['ESM import', 'esm', 'esm.mjs'], ['CommonJS require', 'cjs', 'cjs.cjs'], ['TypeScript README example', 'ts', 'dist/app.js']] as const;
  const cases = ([5, 4] as const).flatMap((major) => CONSUMER_FILES.map(([label, name, file]) => [major, label, name, file] as const));

  test.each(cases)('Express %i, %s: sign-in through requireLogin, then sync beacon + silent check', async (major, _label, name, file) => {
    const app = apps.get(major)!;
    const site = await startConsumer(app, name, file);
    const hosts = [new URL(site.url).host, new URL(hub.url).host];
    try {
      // 1. An anonymous visitor of a protected page signs in at the hub and comes back signed in.
      const browser = new TestBrowser();
      expect((await browser.follow(`${site.url}/`)).body).toContain('/sso/login?next=/');
      const start = await browser.follow(`${site.url}/private`, hosts);
      expect(start.url.startsWith(`${hub.url}/interaction/`)).toBe(true);
      const { body: syncPage } = await signInAt(browser, hub.url, start.url, 'alice', PASSWORD);
      const back = await browser.follow(continueUrlOf(syncPage, hub.url), hosts);
      expect(back.body).toBe('Private page for alice');
      expect((await browser.follow(`${site.url}/`)).body).toBe('Hello Alice');

      // 2. A sign-in at the hub's portal: the sync beacon sets Request-Login, the next page
      //    view does the silent check and the visitor is signed in.
      const other = new TestBrowser();
      const login = await other.follow(`${hub.url}/login`);
      const { body: portalSync } = await signInAt(other, hub.url, login.url, 'alice', PASSWORD);
      await other.follow(continueUrlOf(portalSync, hub.url)); // the portal's own sign-in finishes at the hub
      const beacon = attribute(portalSync, new RegExp(`<img class="beacon" src="(${site.url.replace(/[.]/g, '\\.')}/sso/synclogin\\?[^"]+)"`));
      const synced = await other.get(beacon, { accept: 'image/*', 'sec-fetch-dest': 'image', 'sec-fetch-mode': 'no-cors' });
      expect(synced.status).toBe(200);
      expect(synced.headers.get('content-type')).toBe('image/gif');
      expect((await other.follow(`${site.url}/`, hosts)).body).toBe('Hello Alice');

      // 3. A bad sync code is refused with JSON, not left hanging (Express 4 ignores rejected promises).
      const refused = await fetch(`${site.url}/sso/synclogin?time=1&code=not-a-code`, { signal: AbortSignal.timeout(5_000) });
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({ error: expect.stringMatching(/^invalid_/) });
    } catch (error) {
      throw new Error(`${String(error)}\n--- ${file} output ---\n${site.output()}`);
    } finally {
      await stop(site.child);
    }
  }, 60_000);
});
