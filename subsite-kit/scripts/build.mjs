// Builds the package as npm ships it: dist/esm (ES modules + .d.ts, type-checked) and
// dist/cjs (CommonJS, marked by its own package.json, with the same .d.ts read as CommonJS).
// `node scripts/build.mjs --out-dir DIR` writes DIR/esm and DIR/cjs instead of dist/ (the
// packaging tests build into a temp directory, so they never touch the checkout's dist/).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const { values } = parseArgs({ options: { 'out-dir': { type: 'string' } } });
const out = values['out-dir'] ? resolve(values['out-dir']) : join(root, 'dist');

function compile(project, outDir) {
  const { status } = spawnSync(process.execPath, [tsc, '-p', join(root, project), '--outDir', outDir], { stdio: 'inherit' });
  if (status !== 0) process.exit(status ?? 1);
}

rmSync(out, { recursive: true, force: true });
compile('tsconfig.build.json', join(out, 'esm'));
compile('tsconfig.cjs.json', join(out, 'cjs'));
mkdirSync(join(out, 'cjs'), { recursive: true });
writeFileSync(join(out, 'cjs/package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
cpSync(join(out, 'esm'), join(out, 'cjs'), { recursive: true, filter: (src) => !/\.js$/.test(src) });
