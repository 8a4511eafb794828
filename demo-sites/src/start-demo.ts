import { exitOnSignals, main as startHub } from '../../hub/src/main.js';
import { applySeed, type HubServices } from '../../hub/src/index.js';
import { loadDemoConfig } from './demo-config.js';
import { DEMO_USERS, demoSeed } from './demo-seed.js';
import { demoRegistrationProblems, registrationNote } from './demo-registrations.js';
import { runForum } from './forum/run-forum.js';
import { runSite } from './run-site.js';

/**
 * `npm start`: the hub, the three demo sites and the UCenter-bound forum in one process, on the embedded store
 * unless REDIS_URL (or REDIS_CLUSTER_NODES, REDIS_SENTINELS) is set. Ports come from HUB_PORT, BBS_PORT, WIKI_PORT, SHOP_PORT.
 */
export async function startDemo(env: Record<string, string | undefined> = process.env) {
  const config = loadDemoConfig(env);
  let userLines: string[] = [];
  let registrations: Awaited<ReturnType<typeof demoRegistrationProblems>> = {};
  const hub = await startHub({
    ...env,
    HUB_PORT: String(config.hubPort),
    HUB_ISSUER: config.hubUrl,
    HUB_HOST: config.host,
    // No mail server needed: without SMTP_URL the demo keeps its mail in the outbox page.
    MAIL_DEV_OUTBOX: env.MAIL_DEV_OUTBOX ?? (env.SMTP_URL ? 'false' : 'true'),
    // Anyone may create an account in the demo (verified by e-mail, see the outbox).
    HUB_SIGNUP: env.HUB_SIGNUP ?? 'open',
  }, async (services) => {
    // Users, clients and the UCenter-bound forum (application 1, with the demo's public key).
    await applySeed(demoSeed(config), services);
    userLines = await demoUserLines(services);
    // On a kept Redis the seed leaves an earlier run's registrations as they are: said per site.
    registrations = await demoRegistrationProblems(config, services);
  });
  const started = await Promise.allSettled([...(['bbs', 'wiki', 'shop'] as const).map((name) => runSite(name, env)), runForum(env)]);
  const stops = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    // A site could not start (its port taken): nothing of the demo stays listening.
    for (const stop of stops) await stop();
    await hub.close();
    throw failed.reason;
  }
  const lines = [
    '',
    'sso-hub demo is running (open these in Chromium or Firefox; *.localhost needs no setup):',
    `  hub   ${config.hubUrl}/login`,
    ...Object.values(config.sites).map((site) => `  ${site.name.padEnd(5)} ${site.origin}/   (${site.trusted ? 'trusted' : 'asks consent once'}${site.crossSite ? ', cross-site' : ''})${registrationNote(registrations[site.name], `${config.hubUrl}/admin/clients/${site.name}`)}`),
    `  forum ${config.forum.origin}/   (UCenter application ${config.forum.appId}, UC_API = ${config.hubUrl}/ucenter)${registrationNote(registrations.forum, `${config.hubUrl}/admin/ucenter/${config.forum.appId}`)}`,
    env.SMTP_URL ? '  mail  sent over SMTP_URL' : `  mail  ${config.hubUrl}/dev/outbox   (not sent: the development outbox)`,
    '',
    'demo users:',
    ...userLines,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = async () => {
    for (const stop of stops) await stop();
    await hub.close();
  };
  return Object.assign(stop, { boundMs: hub.shutdownTimeoutMs + 2_000 });
}

/**
 * The demo users as the store has them now: the seed is create-only, so on a kept Redis a user
 * an admin deleted stays deleted and a password someone changed stays changed; the banner says
 * so rather than offering a sign-in that fails.
 */
export async function demoUserLines(services: Pick<HubServices, 'users' | 'hasher'>): Promise<string[]> {
  return Promise.all(DEMO_USERS.map(async (seeded) => {
    const user = await services.users.findByUsername(seeded.username);
    if (!user) return `  ${seeded.username}   (deleted: the seed does not bring it back)`;
    const admin = user.roles.includes('admin') ? '   (admin)' : '';
    if (user.disabled) return `  ${seeded.username}   (disabled)`;
    if (!(await services.hasher.verify(user.passwordHash, seeded.password))) return `  ${seeded.username}   (its password was changed since it was seeded)${admin}`;
    return `  ${seeded.username} / ${seeded.password}${admin}`;
  }));
}

const isEntry = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isEntry) {
  startDemo().then(
    // SIGTERM or SIGINT: sites and hub stop gracefully, then the process exits (`npm start`
    // runs it with `exec`, so a `kill` of npm reaches this process and leaves nothing listening).
    (stop) => exitOnSignals(stop, stop.boundMs),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
