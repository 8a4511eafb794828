import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * A fresh process (jest's own module registry would hide what Node loads) creates the hub as
 * main does, answers a request, then checks a password; it prints which zxcvbn-ts files Node's
 * CommonJS cache (where the package's `main` builds land) held after each step.
 */
const SCRIPT = `
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
const { loadConfig } = await import('./hub/src/config.ts');
const { createHub } = await import('./hub/src/hub.ts');
const { createLogger } = await import('./hub/src/logger.ts');
const { MemoryStore } = await import('./hub/src/store/memory.ts');
const cache = createRequire(import.meta.url).cache;
const zxcvbn = () => Object.keys(cache).filter((file) => file.includes('/@zxcvbn-ts/')).length;
const hub = await createHub(loadConfig({ LOG_LEVEL: 'silent' }), new MemoryStore(), createLogger('silent'));
const server = createServer(hub.app);
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const page = await fetch('http://127.0.0.1:' + server.address().port + '/login');
await page.arrayBuffer();
const afterStart = zxcvbn();
const reason = await Promise.resolve().then(() => hub.services.passwords.check('password1')).then(() => 'accepted', (error) => error.reason);
const afterCheck = zxcvbn();
server.close();
await hub.stop();
process.stdout.write('RESULT ' + JSON.stringify({ status: page.status, afterStart, reason, afterCheck }) + '\\n');
process.exit(0);
`;

describe('the password strength estimator is loaded on first use', () => {
  test('creating the hub and serving a page load no zxcvbn-ts module; the first check does', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', SCRIPT], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
      timeout: 120_000,
    });
    const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`the child process printed no result (exit ${child.status})\n${child.stderr}`);
    const result = JSON.parse(line.slice('RESULT '.length)) as { status: number; afterStart: number; reason: string; afterCheck: number };
    expect(result.status).toBeLessThan(500);
    expect(result.afterStart).toBe(0);
    expect(result.reason).toBe('too-weak');
    expect(result.afterCheck).toBeGreaterThan(0);
  });
});
