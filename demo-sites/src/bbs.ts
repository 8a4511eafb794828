import { runSite } from './run-site.js';

// The bbs demo subsite on its own (docker-compose runs one process per site).
runSite('bbs').catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
