import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Packages a running hub needs only on rare paths, loaded on first use to keep every hub's heap
 * small (docs/performance.md, "Memory"): zxcvbn-ts's dictionaries (choosing a password),
 * nodemailer (the first mail), qrcode (a two-step enrolment), yaml (a seed file at start-up).
 */
const DEFERRED = ['@zxcvbn-ts/core', '@zxcvbn-ts/language-common', '@zxcvbn-ts/language-en', 'nodemailer', 'qrcode', 'yaml'];

/**
 * Runs in a fresh process (jest's module registry would hide what Node loads). A resolve hook
 * reports every ES module Node resolves and Node's CommonJS cache shows the rest; the script
 * starts the hub with main() (SMTP configured, no seed file), serves a page, then uses each path.
 */
const HOOKS = `
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  port.postMessage(result.url);
  return result;
}`;
const SCRIPT = `
import { createRequire, register } from 'node:module';
import { createServer } from 'node:http';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const resolved = new Set();
port1.on('message', (url) => resolved.add(url));
port1.unref();
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}), { data: { port: port2 }, transferList: [port2] });
const cache = createRequire(import.meta.url).cache;
const settle = () => new Promise((done) => setTimeout(done, 100)); // the hook's messages arrive
const loaded = async () => {
  await settle();
  const files = [...resolved, ...Object.keys(cache)];
  return ${JSON.stringify(DEFERRED)}.filter((name) => files.some((file) => file.includes('/node_modules/' + name + '/')));
};
const { main } = await import('./hub/src/main.ts');
const free = createServer();
await new Promise((done) => free.listen(0, '127.0.0.1', done));
const port = free.address().port;
await new Promise((done) => free.close(done));
let services;
const running = await main({ LOG_LEVEL: 'silent', HUB_HOST: '127.0.0.1', HUB_PORT: String(port), HUB_ISSUER: 'http://127.0.0.1:' + port, SMTP_URL: 'smtp://127.0.0.1:9' }, async (built) => { services = built; });
const page = await fetch('http://127.0.0.1:' + port + '/login');
await page.arrayBuffer();
const afterStart = await loaded();
const reason = await Promise.resolve().then(() => services.passwords.check('password1')).then(() => 'accepted', (error) => error.reason);
const enrolment = await services.twoStep.beginEnrolment('lazy-modules-user', 'lazy@example.test', 'lazy-modules-session');
const afterUse = await loaded();
await running.close();
process.stdout.write('RESULT ' + JSON.stringify({ status: page.status, afterStart, reason, qr: enrolment.qrDataUrl.slice(0, 22), afterUse }) + '\\n');
process.exit(0);
`;

describe('packages needed only on rare paths are loaded on first use', () => {
  test('starting the hub with main() and serving a page load none of them; checking a password and enrolling two-step load theirs', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', SCRIPT], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
      timeout: 120_000,
    });
    const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`the child process printed no result (exit ${child.status})\n${child.stderr}`);
    const result = JSON.parse(line.slice('RESULT '.length)) as { status: number; afterStart: string[]; reason: string; qr: string; afterUse: string[] };
    expect(result.status).toBeLessThan(500);
    expect(result.afterStart).toEqual([]);
    expect(result.reason).toBe('too-weak');
    expect(result.qr).toBe('data:image/png;base64,');
    expect(result.afterUse).toEqual(expect.arrayContaining(['@zxcvbn-ts/core', '@zxcvbn-ts/language-en', 'qrcode']));
  });
});
