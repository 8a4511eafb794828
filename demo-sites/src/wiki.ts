import { runSite } from './run-site.js';

// The wiki demo subsite on its own (docker-compose runs one process per site).
runSite('wiki').catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
