/**
 * Issue 9 item 16: oidc-provider 9 supports Node 22 LTS ("Jod") and later and warns
 * "Unsupported runtime" below it. The project targets Node 22 LTS where it declares a runtime
 * (package.json `engines`, the Dockerfile's base image, the README); the test suite itself
 * keeps passing on Node 20.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');

/** The lowest major an `engines` range allows: the smallest `>=N` / `^N` / `N.x` it names. */
function lowestMajor(range: string): number {
  const majors = [...range.matchAll(/(?:>=|\^|~|^|\|\|\s*)(\d+)/g)].map((m) => Number(m[1]));
  return Math.min(...majors);
}

test('package.json engines ask for Node 22 LTS or later', () => {
  const { engines } = JSON.parse(read('package.json')) as { engines: { node: string } };
  expect(lowestMajor(engines.node)).toBeGreaterThanOrEqual(22);
});

test('the Dockerfile builds on a Node 22 image', () => {
  const from = /^FROM\s+node:(\d+)/m.exec(read('Dockerfile'));
  expect(Number(from?.[1])).toBe(22);
});

test('the README names Node 22 LTS as the runtime', () => {
  expect(read('README.md')).toMatch(/Node(\.js)? 22 LTS/);
});
