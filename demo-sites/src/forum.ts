import { runForum } from './forum/run-forum.js';

// The UCenter-bound forum on its own (docker-compose runs one process per site).
runForum().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
