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

/** What a README example may use without importing it: the modules it names, and a site around it. */
const PRELUDE_IMPORTS: Record<string, string[]> = {
  express: ['type Express'],
  redis: ['createClient', 'createCluster', 'createSentinel'],
  '@sso-hub/subsite-kit': ['createSubsiteKit', 'ssoApi', 'type SubsiteKit', 'type SubsiteKitConfig'],
};
const PRELUDE_DECLARATIONS = 'declare const options: SubsiteKitConfig;\ndeclare const app: Express;\ndeclare const sso: SubsiteKit;\n';

/**
 * Every ```ts example of the README as a file of a site: its imports on top (merged with the
 * prelude's), its code in an async function (so `await` works in CommonJS), `options`, `app`
 * and `sso` declared around it. So a snippet that does not compile verbatim (a comment in place
 * of options before `, metrics: true`, an option that is `string | undefined` under
 * exactOptionalPropertyTypes) fails here.
 */
async function readmeExamples(): Promise<Record<string, string>> {
  const readme = await readFile(join(KIT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
  if (!blocks.some((code) => code.includes('ssoApi(req)'))) throw new Error('subsite-kit/README.md has no ```ts example that uses ssoApi(req)');
  return Object.fromEntries(blocks.map((block, i) => {
    const imports = new Map(Object.entries(PRELUDE_IMPORTS).map(([module, names]) => [module, new Set(names)]));
    const body = block.split('\n').filter((line) => {
      // `import express from 'express'` or `import { a, b } from 'm'`: the prelude imports express's default.
      const imported = /^import (?:\w+|\{ ([^}]*) \}) from '([^']+)';$/.exec(line);
      if (!imported) return true;
      for (const name of imported[1]?.split(',').map((part) => part.trim()) ?? []) imports.get(imported[2]!)?.add(name) ?? imports.set(imported[2]!, new Set([name]));
      return false;
    });
    const head = [...imports].map(([module, names]) => `import ${module === 'express' ? 'express, ' : ''}{ ${[...names].join(', ')} } from '${module}';`).join('\n');
    return [`readme-${i}.ts`, `${head}\n${PRELUDE_DECLARATIONS}\nexport async function example${i}(): Promise<void> {\n${body.join('\n')}\n}\nvoid [options, app, sso, express, createClient, createCluster, createSentinel, createSubsiteKit, ssoApi];\n`];
  }));
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
  const examples = await readmeExamples();
  for (const [file, code] of Object.entries(examples)) await writeFile(join(app, file), code);
  await writeFile(join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      module: 'node16',
      moduleResolution: 'node16',
      target: 'es2022',
      strict: true,
      // As the README promises: its examples, and the kit's .d.ts, compile with it too.
      exactOptionalPropertyTypes: true,
      // The kit's .d.ts are checked too: that is where TS1479 is reported.
      skipLibCheck: false,
      noEmit: true,
      types: ['node'],
    },
    // app.ts reaches the .d.ts behind index.d.ts; the rest are listed so that every .d.ts the
    // package ships is checked as CommonJS.
    files: ['app.ts', ...Object.keys(examples), ...shipped.map((file) => `../kit/dist/cjs/${file}`)],
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

  it('compiles with no errors, the kit\'s .d.ts and every ```ts example of the README included', () => {
    const errors = output.text.split('\n').filter((line) => /error TS\d+/.test(line));
    expect(errors).toEqual([]);
    expect(output.status).toBe(0);
  });
});
