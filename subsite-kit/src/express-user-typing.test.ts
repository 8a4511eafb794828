import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * `req.user` next to other typings that declare it. @types/passport (installed by any site that
 * used or still uses Passport, or pulled in by a dependency) declares
 * `namespace Express { interface User {} interface Request { user?: User | undefined } }`. The kit
 * declared `user?: SsoUser | undefined` on Request directly: TypeScript then reported TS2717
 * ("Subsequent property declarations must have the same type") in one of the two .d.ts, and
 * `req.user` took passport's empty `User`, so the README's `req.user.preferred_username` did not
 * compile, skipLibCheck or not (a new-developer review, TypeScript 5.3 and 5.9 with
 * @types/passport installed: under TypeScript 5 every installed @types package is loaded).
 * The kit now types `req.user` as `Express.User` and makes that interface extend `SsoUser`, the
 * convention passport's types set, so both declarations agree.
 */

const run = promisify(execFile);
const KIT = fileURLToPath(new URL('..', import.meta.url));
const ROOT = join(KIT, '..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** What @types/passport (1.0) declares on Express's namespace, as it writes it. */
const PASSPORT_LIKE = `declare global {
  namespace Express {
    interface AuthInfo {}
    interface User {}
    interface Request {
      authInfo?: AuthInfo | undefined;
      user?: User | undefined;
      isAuthenticated(): this is AuthenticatedRequest;
    }
    interface AuthenticatedRequest extends Request {
      user: User;
    }
  }
}
export {};
`;

/** A site's use of the kit's types: the README's own lines. */
const SITE = (kit: string) => `import express from 'express';
import { createSubsiteKit, type SsoUser } from '${kit}';

export async function site(): Promise<void> {
  const sso = await createSubsiteKit();
  const app = express();
  app.use(sso.router);
  app.get('/', (req, res) => {
    if (req.user) res.type('text').send(\`Hello \${req.user.name ?? req.user.sub} \${String(req.user.claims['email_verified'])}\`);
    else res.type('html').send('<a href="/sso/login?next=/">Sign in</a>');
  });
  app.get('/private', sso.requireLogin, (req, res) => {
    const user: SsoUser | undefined = req.user;
    res.type('text').send(\`Private page for \${req.user?.preferred_username ?? user?.sub}\`);
  });
}
`;

let work: string;

/** Compiles site.ts (and `extra` files) with the kit from its sources; answers tsc's error lines. */
async function compile(extra: string[]): Promise<string[]> {
  const tsconfig = {
    compilerOptions: {
      module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true,
      exactOptionalPropertyTypes: true, noEmit: true, types: ['node'],
      // Faster; the kit's sources and the site's own .ts files (passport-like.ts: a .ts, not a
      // .d.ts, so that it is checked too) are checked all the same.
      skipLibCheck: true,
      allowImportingTsExtensions: true,
    },
    // The other typings first, as a site that imports passport before the kit loads them.
    files: [...extra, 'site.ts'],
  };
  const name = `tsconfig.${extra.length}.json`;
  await writeFile(join(work, name), JSON.stringify(tsconfig, null, 2));
  try {
    await run(process.execPath, [TSC, '-p', name], { cwd: work, maxBuffer: 16 * 1024 * 1024 });
    return [];
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    const lines = `${stdout ?? ''}${stderr ?? ''}`.split('\n').filter((line) => /error TS\d+/.test(line));
    return lines.length ? lines : [String(error)];
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sso-kit-user-typing-'));
  await symlink(join(ROOT, 'node_modules'), join(work, 'node_modules'), 'dir');
  await writeFile(join(work, 'package.json'), JSON.stringify({ name: 'kit-user-typing', private: true, type: 'module' }));
  await writeFile(join(work, 'site.ts'), SITE(join(KIT, 'src/index.ts')));
  await writeFile(join(work, 'passport-like.ts'), PASSPORT_LIKE);
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("req.user's type", () => {
  it('is the kit\'s user in a site with no other typings of it', async () => {
    expect(await compile([])).toEqual([]);
  }, 120_000);

  it('agrees with @types/passport\'s declaration of req.user (no TS2717), and keeps the kit\'s fields', async () => {
    expect(await compile(['passport-like.ts'])).toEqual([]);
  }, 120_000);
});
