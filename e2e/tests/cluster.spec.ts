import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { waitForOk } from '../../hub/src/testing/hub-process.js';
import { startOwnRedisCluster, type OwnRedisCluster } from '../../hub/src/testing/redis-server.js';
import { SitePage } from '../pages/site-page.js';
import { PORTS } from '../ports.js';

/**
 * One journey against the demo on a 3-master Redis Cluster (issue 12): a demo of its own
 * (hub, bbs, wiki, shop, forum on PORTS.extra + 20…24) on a cluster of its own, both stopped
 * by PID afterwards. Sign in at the hub, the bbs signs in silently (sync beacon, then lazy
 * verification), sign out at the bbs ends both.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// E2E_PORT_BASE + 40…44: clear of 5432 (PostgreSQL) for the bases the engineers use.
const base = PORTS.extra + 20;
const HUB = `http://hub.sso.localhost:${base}`;
const BBS = `http://bbs.sso.localhost:${base + 1}`;

let cluster: OwnRedisCluster;
let demo: ChildProcess;

test.beforeAll(async () => {
  test.setTimeout(120_000);
  cluster = await startOwnRedisCluster();
  demo = spawn(process.execPath, ['--import', 'tsx', 'demo-sites/src/start-demo.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      REDIS_URL: '', // empty is unset: the cluster below is the store
      REDIS_CLUSTER_NODES: cluster.nodes.join(','),
      KEY_PREFIX: `e2e-cluster:${Date.now()}:`,
      HUB_PORT: String(base),
      BBS_PORT: String(base + 1),
      WIKI_PORT: String(base + 2),
      SHOP_PORT: String(base + 3),
      FORUM_PORT: String(base + 4),
      HUB_ISSUER: HUB,
      HUB_URL: HUB,
      LOG_LEVEL: 'warn',
      SIGNIN_STARTS_PER_IP: '100000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForOk(`http://127.0.0.1:${base}/readyz`, 90_000);
  await waitForOk(`http://127.0.0.1:${base + 1}/`, 30_000);
});

test.afterAll(async () => {
  if (demo && demo.exitCode === null) {
    const exited = new Promise((resolve) => demo.once('exit', resolve));
    demo.kill('SIGTERM');
    const timer = setTimeout(() => demo.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
  // The cluster keeps nothing on disk: stopping it removes every key of the run.
  await cluster?.stop();
});

test('on a Redis Cluster: sign in at the hub, the bbs follows silently, sign-out at the bbs ends both', async ({ page }) => {
  await page.goto(`${HUB}/login?next=${encodeURIComponent('/account')}`);
  await page.getByTestId('login-username').fill('bob');
  await page.getByTestId('login-password').fill('bob-password-1');
  await page.getByTestId('login-submit').click();
  await page.waitForURL(`${HUB}/account`);
  await expect(page.getByTestId('account-username')).toHaveText('bob');

  const bbs = new SitePage(page, BBS);
  await bbs.open('/');
  await bbs.expectSignedInAs('Bob Builder');

  await bbs.signOut();
  await bbs.expectAnonymous();
  await page.goto(`${HUB}/account`);
  await expect(page.getByTestId('login-username')).toBeVisible();
});
