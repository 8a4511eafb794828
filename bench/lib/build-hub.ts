import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository this bench belongs to. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Compiles a checkout's hub as its image does (`tsc -p hub/tsconfig.build.json`), into a folder
 * of this run's own, `hub/dist-bench-<random>` of that checkout (beside `hub/dist`, so its paths
 * to templates/ and hub/locales/ hold; never a folder another run or a running hub may be
 * reading), removed when this process exits; returns the folder's URL for `BENCH_HUB_DIST`.
 * `undefined` for a checkout from before the hub was compiled (no hub/tsconfig.build.json): its
 * bench server runs the sources through tsx.
 */
export function buildHub(root: string = ROOT): string | undefined {
  const project = join(root, 'hub/tsconfig.build.json');
  if (!existsSync(project)) return undefined;
  const outDir = join(root, `hub/dist-bench-${randomBytes(4).toString('hex')}`);
  process.once('exit', () => rmSync(outDir, { recursive: true, force: true }));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const build = spawnSync(process.execPath, [tsc, '-p', project, '--outDir', outDir], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`building the hub (tsc -p ${project} --outDir ${outDir}) failed`);
  return pathToFileURL(outDir).href;
}
