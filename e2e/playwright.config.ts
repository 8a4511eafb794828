import { defineConfig } from '@playwright/test';
import { DEMO_ENV, PORTS } from './ports.js';

/**
 * Playwright drives Debian's Chromium (/usr/bin/chromium); no browser is downloaded.
 * The demo (hub + bbs + wiki + shop) runs on Redis under a per-run key prefix.
 */
export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  reporter: [['list']],
  use: {
    headless: true,
    screenshot: 'only-on-failure',
    trace: 'off',
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
  webServer: {
    command: 'npx tsx demo-sites/src/start-demo.ts',
    cwd: '..',
    env: DEMO_ENV,
    url: `http://127.0.0.1:${PORTS.hub}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
