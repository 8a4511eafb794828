/**
 * docker-compose.yml passes every hub setting through `${NAME:-default}`, so a variable the
 * operator's .env leaves out still reaches the hub, as the default compose writes. An upgrade
 * path that depends on a variable being unset (HUB_SUBSITE_JWKS_REFETCH_MS: an .env that kept
 * only HUB_KEY_ACTIVATION_DELAY_MS=60000, the former default, is taken with a warning) must then
 * see it unset under compose too: `${NAME:-}`, which the hub reads as unset.
 */
import { expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { checkServerStart, loadConfig } from '../src/config.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The hub replicas' environment as compose resolves it for an .env holding `dotEnv`. */
function composeHubEnvironment(dotEnv: Record<string, string>): Record<string, string> {
  const compose = parse(readFileSync(`${ROOT}docker-compose.yml`, 'utf8')) as { 'x-hub': { environment: Record<string, string | number | boolean | null> } };
  return Object.fromEntries(
    Object.entries(compose['x-hub'].environment).map(([name, raw]) => {
      const value = String(raw ?? '').replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (_all, variable: string, fallback?: string) => {
        const given = dotEnv[variable];
        return given !== undefined && given !== '' ? given : (fallback ?? '');
      });
      return [name, value];
    }),
  );
}

test('an .env that kept only HUB_KEY_ACTIVATION_DELAY_MS=60000 (the former default) still starts under docker-compose.yml, with the warning', () => {
  const env = composeHubEnvironment({ HUB_KEY_ACTIVATION_DELAY_MS: '60000' });
  const config = loadConfig(env);
  expect(config.HUB_KEY_ACTIVATION_DELAY_MS).toBe(60_000);
  const warnings = checkServerStart(config, env, env);
  expect(warnings.join('\n')).toMatch(/HUB_KEY_ACTIVATION_DELAY_MS \(60000 ms\) leaves no room for relying parties/);
});

test('with nothing set, compose starts the hub on the hub\'s own key-rotation defaults', () => {
  const config = loadConfig(composeHubEnvironment({}));
  expect({ delay: config.HUB_KEY_ACTIVATION_DELAY_MS, refetch: config.HUB_SUBSITE_JWKS_REFETCH_MS }).toEqual({
    delay: loadConfig({}).HUB_KEY_ACTIVATION_DELAY_MS,
    refetch: loadConfig({}).HUB_SUBSITE_JWKS_REFETCH_MS,
  });
});
