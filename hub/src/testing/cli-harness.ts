import { runCli } from '../cli.js';
import { connectRedis } from '../store/redis.js';

export interface CliRun {
  code: number;
  /** Everything the command printed, one line per print. */
  out: string;
  /** Its warnings (standard error in a terminal). */
  warnings: string;
}

/**
 * Runs admin CLI commands in-process against the test Redis under `env.KEY_PREFIX`, with
 * their output captured; `cleanUp()` deletes every key under that prefix afterwards. Each run
 * passes `--new-prefix`: the prefix is the test's own, while hubs of other tests publish theirs
 * on the shared Redis.
 */
export function cliHarness(env: Record<string, string> & { REDIS_URL: string; KEY_PREFIX: string }) {
  return {
    async run(...argv: string[]): Promise<CliRun> {
      const lines: string[] = [];
      const warnings: string[] = [];
      const code = await runCli([...argv, '--new-prefix'], env, (line) => lines.push(line), (line) => warnings.push(line));
      return { code, out: lines.join('\n'), warnings: warnings.join('\n') };
    },
    async cleanUp(): Promise<void> {
      const client = await connectRedis(env.REDIS_URL);
      for await (const keys of client.scanIterator({ MATCH: `${env.KEY_PREFIX}*` })) if (keys.length) await client.del(keys);
      await client.quit();
    },
  };
}
