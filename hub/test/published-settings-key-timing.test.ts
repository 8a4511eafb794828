/**
 * The CLI next to a running hub goes by the key timing the hub published, loaded again as the
 * CLI's configuration (hubSettingsFor). A hub whose environment kept only
 * HUB_KEY_ACTIVATION_DELAY_MS=60000 (the former default) starts with a warning, its refetch
 * allowance left to the default (60 s), and publishes both: loaded as given, that pair is refused
 * (60000 ms is not more than 2 × 5000 + 60000), so every CLI command run beside such a hub
 * stopped with "invalid hub configuration: HUB_KEY_ACTIVATION_DELAY_MS: must be more than …",
 * though the hub itself was running.
 */
import { expect, test } from '@jest/globals';
import { loadConfig } from '../src/config.js';
import { hubSettingsFor, settingsText, type PublishedSettings } from '../src/published-settings.js';

const published = (env: Record<string, string>): PublishedSettings => JSON.parse(settingsText(loadConfig(env))) as PublishedSettings;

test('a hub started with only HUB_KEY_ACTIVATION_DELAY_MS=60000 (the former default): the CLI beside it takes its published settings, as the hub took them', () => {
  const hub = published({ HUB_KEY_ACTIVATION_DELAY_MS: '60000' });
  const { config, differed } = hubSettingsFor(loadConfig({}), {}, hub);
  expect(config.HUB_KEY_ACTIVATION_DELAY_MS).toBe(60_000);
  expect(differed).toContain('HUB_KEY_ACTIVATION_DELAY_MS');
  expect(differed).not.toContain('HUB_SUBSITE_JWKS_REFETCH_MS');
});

test('a hub whose settings were given together keeps them in the CLI as they are', () => {
  const hub = published({ HUB_KEY_ACTIVATION_DELAY_MS: '60000', HUB_SUBSITE_JWKS_REFETCH_MS: '30000' });
  const { config } = hubSettingsFor(loadConfig({}), {}, hub);
  expect({ delay: config.HUB_KEY_ACTIVATION_DELAY_MS, refetch: config.HUB_SUBSITE_JWKS_REFETCH_MS }).toEqual({ delay: 60_000, refetch: 30_000 });
  const defaults = hubSettingsFor(loadConfig({}), {}, published({})).config;
  expect({ delay: defaults.HUB_KEY_ACTIVATION_DELAY_MS, refetch: defaults.HUB_SUBSITE_JWKS_REFETCH_MS }).toEqual({ delay: 90_000, refetch: 60_000 });
});
