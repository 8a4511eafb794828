import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/open-handles');

/** Runs jest on fixture files in two workers, with the environment under test; the reports it wrote. */
async function runJest(files: string[]): Promise<{ output: string; reports: string[] }> {
  const scratch = mkdtempSync(join(tmpdir(), 'open-handles-'));
  try {
    const config = {
      rootDir: FIXTURES,
      testMatch: files.map((file) => `**/${file}`),
      testEnvironment: join(ROOT, 'test/open-handles-environment.js'),
      transform: {},
      maxWorkers: 2,
      // No timings from earlier runs: with them, jest runs a few fast files in its own process.
      cacheDirectory: join(scratch, 'cache'),
    };
    const child = spawn(process.execPath, ['--experimental-vm-modules', '--no-warnings', join(ROOT, 'node_modules/jest/bin/jest.js'), '--config', JSON.stringify(config)], {
      cwd: ROOT,
      env: { ...process.env, JEST_OPEN_HANDLES_DIR: join(scratch, 'reports') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining(`Tests:       ${files.length} passed`) });
    let reports: string[] = [];
    try {
      reports = readdirSync(join(scratch, 'reports')).map((name) => readFileSync(join(scratch, 'reports', name), 'utf8'));
    } catch {
      // no directory: nothing was reported
    }
    return { output, reports };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

describe('test/open-handles-environment.js: what keeps a jest worker alive, said', () => {
  it('names the timer (where it was made) and the server a test left open, and the files the worker ran', async () => {
    const { output, reports } = await runJest(['leaks-a-timer.leak.js', 'leaks-a-server.leak.js']);
    expect(output).toContain('A worker process has failed to exit gracefully');
    const all = reports.join('\n');
    expect(all).toMatch(/setInterval\(…, 60000\) in .*leaks-a-timer\.leak\.js\n.*leaks-a-timer\.leak\.js:5/);
    expect(all).toMatch(/Server listening on 127\.0\.0\.1:\d+/);
    expect(all).toContain('memory when asked: {"rss":');
    expect(reports.find((report) => report.includes('Server listening'))).toMatch(/ran, last one last:\n(.*\n)*.*leaks-a-server\.leak\.js/);
  }, 60_000);

  it('writes nothing when the tests stop what they start', async () => {
    const { output, reports } = await runJest(['clean.leak.js', 'also-clean.leak.js']);
    expect(output).not.toContain('failed to exit gracefully');
    expect(reports).toEqual([]);
  }, 60_000);
});
