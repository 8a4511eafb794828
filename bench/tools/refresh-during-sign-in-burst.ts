/**
 * How long a refresh (a new RS256 ID token: a WebCrypto signature on libuv's pool) takes while
 * a burst of 100 password checks (argon2id, on the same pool) is in flight, five times, then once
 * idle. `old` lets every check onto the pool at once, as the hub did before argon2id took turns
 * (ARGON2_CONCURRENCY); without it the hub's defaults apply.
 *
 *   npx tsx bench/tools/refresh-during-sign-in-burst.ts [old]
 */
import { startTestHub } from '../../hub/src/testing/test-hub.js';
import { basic, postForm } from '../../hub/test/support.js';

const env: Record<string, string> = process.argv[2] === 'old' ? { UV_THREADPOOL_SIZE: '1024', ARGON2_CONCURRENCY: '1000', ARGON2_QUEUE_LIMIT: '100000' } : {};
const hub = await startTestHub('memory', { ...env, HUB_ENABLE_PASSWORD_GRANT: 'true', LOGIN_MAX_ATTEMPTS_PER_IP: '100000' });
await hub.services.users.create({ username: 'gus', email: 'gus@example.test', password: 'gus-password-1' });
const { clientSecret } = await hub.services.clients.register({ clientId: 'app', trusted: true, redirectUris: ['http://app.test/cb'], grantTypes: ['authorization_code', 'refresh_token', 'password'] });
const auth = { authorization: basic('app', clientSecret!) };
const first = await postForm(`${hub.url}/token`, { grant_type: 'password', username: 'gus', password: 'gus-password-1', scope: 'openid offline_access' }, auth);
let refresh = first.body.refresh_token as string;
const hash = (await hub.services.users.findByLogin('gus'))!.passwordHash;
const times: number[] = [];
for (let round = 0; round < 5; round += 1) {
  const burst = Array.from({ length: 100 }, () => hub.services.hasher.verify(hash, 'gus-password-1'));
  await new Promise((r) => setTimeout(r, 20));
  const t = performance.now();
  const answer = await postForm(`${hub.url}/token`, { grant_type: 'refresh_token', refresh_token: refresh }, auth);
  times.push(performance.now() - t);
  if (answer.status !== 200 || !answer.body.id_token) throw new Error(JSON.stringify(answer.body));
  refresh = answer.body.refresh_token as string;
  await Promise.all(burst);
}
const t = performance.now();
const idle = await postForm(`${hub.url}/token`, { grant_type: 'refresh_token', refresh_token: refresh }, auth);
console.log(process.argv[2] ?? 'new', 'refresh during a burst of 100 checks (ms):', times.map((x) => x.toFixed(0)).join(' '), '| idle', (performance.now() - t).toFixed(0), idle.status);
await hub.close();
