import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository this bench belongs to. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Compiles a checkout's hub as its image does (`tsc -p hub/tsconfig.build.json`), into
 * `hub/dist-bench` of that checkout (beside `hub/dist`, so its paths to templates/ and
 * hub/locales/ hold; never `hub/dist` itself, which a hub on this machine may be running), and
 * returns the folder's URL for `BENCH_HUB_DIST`. `undefined` for a checkout from before the hub
 * was compiled (no hub/tsconfig.build.json): its bench server runs the sources through tsx.
 */
export function buildHub(root: string = ROOT): string | undefined {
  const project = join(root, 'hub/tsconfig.build.json');
  if (!existsSync(project)) return undefined;
  const outDir = join(root, 'hub/dist-bench');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const build = spawnSync(process.execPath, [tsc, '-p', project, '--outDir', outDir, '--sourceMap', 'false'], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`building the hub (tsc -p ${project} --outDir ${outDir}) failed`);
  return pathToFileURL(outDir).href;
}
