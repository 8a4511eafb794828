import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The built package's typings as a CommonJS TypeScript project reads them: `tsc --strict
 * --module node16` in a package without `"type": "module"` picks the `require` condition,
 * dist/cjs/*.d.ts, and checks them as CommonJS. There a `.d.ts` import of an ESM-only package
 * (jose) must be `import type { X } from 'jose' with { 'resolution-mode': 'import' }`: a value
 * import (`import { type X } from 'jose'`, which the .d.ts keeps as written) is TS1479, a plain
 * `import type` TS1541 under `module: node16` (TypeScript 5.9).
 *
 * Fast (no npm): the kit is built into a temp directory by its own build script, and the
 * consumer reaches it through a node_modules symlink; the kit's own dependencies resolve from
 * the workspace's node_modules. test/kit-package.test.ts covers the packed tarball end to end.
 */

const run = promisify(execFile);
const KIT = fileURLToPath(new URL('..', import.meta.url));
const ROOT = join(KIT, '..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

const CONSUMER = `import type { RequestHandler } from 'express';
import type { RedisClientType, RedisFunctions, RedisModules, RedisScripts, RespVersions, TypeMapping } from 'redis';
import { createSubsiteKit, ssoApi, type SubsiteKit } from '@sso-hub/subsite-kit';

// CommonJS: no top-level await.
async function start(): Promise<SubsiteKit> {
  return createSubsiteKit({ clientId: 'bbs' });
}
// The kit's augmentation of Express's Request, used as the README shows.
export const orders: RequestHandler = async (req, res, next) => {
  try {
    const token = await req.sso!.accessToken();
    const info = await ssoApi(req).userinfo();
    res.json({ sub: req.user?.sub, token, info });
  } catch (error) {
    next(error);
  }
};
void start;

// Any node-redis client is accepted as it is (a review: node-redis 5's createClient() was
// TS2322 "'RespVersions' is not assignable to type '2'"): these stand in for such clients with
// node-redis 6's own types (RESP versions left open, RESP 3 with a type mapping).
declare const anyResp: RedisClientType<RedisModules, RedisFunctions, RedisScripts, RespVersions>;
declare const resp3: RedisClientType<{}, {}, {}, 3, TypeMapping>;
export async function withRedis(): Promise<SubsiteKit[]> {
  // @ts-expect-error not a Redis client: still refused by the type
  void createSubsiteKit({ redis: { isOpen: true } });
  return [await createSubsiteKit({ redis: anyResp }), await createSubsiteKit({ redis: resp3 })];
}
`;

/** The README's example of a route that calls the hub's APIs (the ```ts block that uses ssoApi), in a site. */
async function readmeApiExample(): Promise<string> {
  const readme = await readFile(join(KIT, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!).find((code) => code.includes('ssoApi(req)'));
  if (!block) throw new Error('subsite-kit/README.md has no ```ts example that uses ssoApi(req)');
  return `import express from 'express';
import { createSubsiteKit, ssoApi } from '@sso-hub/subsite-kit';

export async function site() {
  const sso = await createSubsiteKit();
  const app = express();
  app.use(sso.router);
${block}
  app.use(sso.errorHandler);
  return app;
}
`;
}

let work: string;
let output: { status: number; text: string };

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sso-kit-cjs-typings-'));
  // The package as installed: its package.json and a fresh dist/ (never the checkout's dist/).
  const kit = join(work, 'kit');
  await run(process.execPath, [join(KIT, 'scripts/build.mjs'), '--out-dir', join(kit, 'dist')], { maxBuffer: 16 * 1024 * 1024 })
    .catch((error: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`the kit's build failed: ${error.message}\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    });
  await copyFile(join(KIT, 'package.json'), join(kit, 'package.json'));
  const shipped = (await readdir(join(kit, 'dist/cjs'), { recursive: true })).filter((file) => file.endsWith('.d.ts')).map((file) => file.split(sep).join('/'));
  expect(shipped).toContain('hub-token.d.ts');
  await symlink(join(ROOT, 'node_modules'), join(kit, 'node_modules'), 'dir');

  // The consumer: CommonJS (no "type"), the kit, redis, @types/node and @types/express in its node_modules.
  const app = join(work, 'app');
  await mkdir(join(app, 'node_modules/@sso-hub'), { recursive: true });
  await mkdir(join(app, 'node_modules/@types'), { recursive: true });
  await symlink(kit, join(app, 'node_modules/@sso-hub/subsite-kit'), 'dir');
  for (const types of ['node', 'express']) await symlink(join(ROOT, 'node_modules/@types', types), join(app, 'node_modules/@types', types), 'dir');
  // The site's own node-redis (a peer of the kit), for the client types it passes.
  for (const dependency of ['redis', '@redis']) await symlink(join(ROOT, 'node_modules', dependency), join(app, 'node_modules', dependency), 'dir');
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'kit-cjs-consumer', private: true }, null, 2));
  await writeFile(join(app, 'app.ts'), CONSUMER);
  await writeFile(join(app, 'readme-api.ts'), await readmeApiExample());
  await writeFile(join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      module: 'node16',
      moduleResolution: 'node16',
      target: 'es2022',
      strict: true,
      // The kit's .d.ts are checked too: that is where TS1479 is reported.
      skipLibCheck: false,
      noEmit: true,
      types: ['node'],
    },
    // app.ts reaches the .d.ts behind index.d.ts; the rest are listed so that every .d.ts the
    // package ships is checked as CommonJS.
    files: ['app.ts', 'readme-api.ts', ...shipped.map((file) => `../kit/dist/cjs/${file}`)],
  }, null, 2));
  try {
    const { stdout, stderr } = await run(process.execPath, [TSC, '-p', 'tsconfig.json', '--explainFiles'], { cwd: app, maxBuffer: 16 * 1024 * 1024 });
    output = { status: 0, text: stdout + stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code?: number; stdout?: string; stderr?: string };
    output = { status: typeof code === 'number' ? code : 1, text: `${stdout ?? ''}${stderr ?? ''}` || String(error) };
  }
}, 120_000); // ~15-20 s: the build, then one tsc run

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the built kit in a CommonJS TypeScript project (module node16, strict)', () => {
  it('resolves the kit to its CommonJS typings', () => {
    // --explainFiles: each file, then why it is in the program.
    expect(output.text).toMatch(/[/\\]kit[/\\]dist[/\\]cjs[/\\]index\.d\.ts\n\s+Imported via '@sso-hub\/subsite-kit' from file 'app\.ts'/);
  });

  it('compiles with no errors, the kit\'s .d.ts and the README\'s API example included', () => {
    const errors = output.text.split('\n').filter((line) => /error TS\d+/.test(line));
    expect(errors).toEqual([]);
    expect(output.status).toBe(0);
  });
});
