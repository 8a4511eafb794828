import { defineConfig } from '@playwright/test';

/**
 * Playwright drives Debian's Chromium (/usr/bin/chromium); no browser is downloaded.
 * The demo (hub + bbs + wiki + shop) runs on Redis under a per-run key prefix, started and
 * stopped by `global-setup.ts`.
 */
export default defineConfig({
  testDir: './tests',
  // Starts the demo and, after the run, stops it and deletes every key of the run from Redis.
  globalSetup: './global-setup.ts',
  outputDir: './test-results',
  fullyParallel: false,
  workers: 1,
  // One retry on CI, reported as "flaky" in the output, so a timing hiccup on a loaded 2-core runner
  // does not hide the rest of the run; locally a failure fails at once.
  retries: process.env.CI ? 1 : 0,
  timeout: 60_000,
  reporter: [['list']],
  use: {
    headless: true,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
