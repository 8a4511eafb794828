import { readFileSync } from 'node:fs';
import { Keys } from '../src/store/keys.js';

/**
 * Every key family the hub writes is in README's "What Redis holds, and for how long": an
 * operator sizing Redis, or wondering whether a key without a TTL is a leak, reads that table
 * (a soak review found `posted-form:*` and `delivery:lease:*` missing, and a `portal-sessions:`
 * family in keys.ts that nothing wrote).
 */
const PREFIX = 'sso:';

function documentedFamilies(): string[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('### What Redis holds, and for how long');
  const end = readme.indexOf('**Run Redis with', start);
  expect(start).toBeGreaterThan(-1);
  expect(end).toBeGreaterThan(start);
  // Backticked names with a colon or a lower-case word (`users`, `secrets:*`); the literal part
  // before the first placeholder (`{id}`, `{…}`, `<Model>`, `*`) is the family.
  return [...readme.slice(start, end).matchAll(/`([^`\s]+)`/g)]
    .map((match) => match[1]!)
    .filter((name) => /^[a-z][a-z0-9-]*(:|$)/.test(name))
    .map((name) => name.split(/[{<*]/)[0]!);
}

/**
 * Whether documented `family` covers `key`: a family ending in `:` (or cut at a placeholder)
 * covers the keys under it; a whole name (`users`, `clients:version`) only itself and the keys
 * under it with a colon, so `users` does not cover an undocumented `users-foo`.
 */
function covers(family: string, key: string): boolean {
  if (family.endsWith(':') || family.endsWith('-')) return key.startsWith(family);
  return key === family || key.startsWith(`${family}:`);
}

/** One key of each family Keys makes, without the prefix (arguments are placeholders). */
function keyFamilies(): { method: string; key: string }[] {
  const keys = new Keys(PREFIX) as unknown as Record<string, (...args: unknown[]) => unknown>;
  const methods = Object.getOwnPropertyNames(Keys.prototype).filter((name) => name !== 'constructor');
  const made: { method: string; key: string }[] = [];
  for (const method of methods) {
    const value = keys[method]!.call(keys, 'Placeholder', 'Placeholder');
    const key = typeof value === 'string' ? value : (value as { prefix: string }).prefix;
    // `rl`, `portal-sess:`: prefixes that keys are made under.
    const name = key.slice(PREFIX.length);
    made.push({ method, key: /Prefix$/.test(method) && !name.endsWith(':') ? `${name}:` : name });
  }
  return made;
}

test('every key family Keys makes is listed in README (What Redis holds)', () => {
  const families = documentedFamilies();
  const missing = keyFamilies().filter(({ key }) => !families.some((family) => covers(family, key)));
  expect(missing).toEqual([]);
});
