import { createServer, type Server } from 'node:http';
import { loadDemoConfig } from '../demo-sites/src/demo-config.js';
import { createDemoSite } from '../demo-sites/src/site.js';
import { DEMO_ENV } from './ports.js';
import { admin } from './support.js';

/** A fourth demo subsite registered at the hub, run by the test itself (for misconfigurations). */
export interface ExtraSite {
  clientId: string;
  url: string;
  internalUrl: string;
  close(): Promise<void>;
}

/**
 * Registers a subsite at the hub and starts it on `port` (under the run's port base) with
 * what `misconfigure` changes in its settings: a wrong client secret, a wrong sync key, ….
 */
export async function startExtraSite(port: number, misconfigure: (real: { clientSecret: string; syncKey: string }) => { clientSecret: string; syncKey: string }): Promise<ExtraSite> {
  const url = `http://extra.sso.localhost:${port}`;
  const internalUrl = `http://127.0.0.1:${port}`;
  const out = await admin(
    'clients', 'add', '--id', `extra-${Date.now()}`, '--name', 'Extra Site', '--trusted',
    '--redirect-uri', `${url}/sso/callback`, '--post-logout-uri', `${url}/`,
    '--sync-login-url', `${url}/sso/synclogin`, '--sync-logout-url', `${url}/sso/synclogout`,
    '--userdelete-url', `${internalUrl}/sso/userdelete`,
  );
  const clientId = /registered client (\S+)/.exec(out)![1]!;
  const real = {
    clientSecret: /client secret \(shown once\): (\S+)/.exec(out)![1]!,
    syncKey: /sync key \(shown once\): (\S+)/.exec(out)![1]!,
  };
  const settings = misconfigure(real);
  const config = loadDemoConfig({ ...DEMO_ENV, REDIS_URL: undefined });
  const app = await createDemoSite(
    { name: 'bbs', clientId, title: 'Extra Site', port, origin: url, ...settings, trusted: true, crossSite: false },
    config,
  );
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    clientId,
    url,
    internalUrl,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
