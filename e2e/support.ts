import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { runCli } from '../hub/src/cli.js';
import { DEMO_ENV } from './ports.js';

/** A fresh user per test, created through the admin CLI against the demo's store. */
export async function newUser(prefix = 'user'): Promise<{ login: string; password: string; name: string }> {
  const login = `${prefix}-${randomUUID().slice(0, 8)}`;
  const password = `pw-${randomUUID()}`;
  const name = `User ${login}`;
  const lines: string[] = [];
  const code = await runCli(['users', 'add', '--username', login, '--email', `${login}@example.test`, '--name', name, '--password', password], DEMO_ENV, (line) => lines.push(line));
  if (code !== 0) throw new Error(`could not create user: ${lines.join(' ')}`);
  return { login, password, name };
}

export async function admin(...argv: string[]): Promise<string> {
  const lines: string[] = [];
  const code = await runCli(argv, DEMO_ENV, (line) => lines.push(line));
  if (code !== 0) throw new Error(`admin ${argv.join(' ')} failed: ${lines.join(' ')}`);
  return lines.join('\n');
}

const SHOTS = new URL('./screenshots/', import.meta.url).pathname;
mkdirSync(SHOTS, { recursive: true });

/** A screenshot of a step, kept (not committed) so a person can look at the run. */
export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
}
