import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** The pauses between tries of a command a cluster answered `TRYAGAIN`, in milliseconds (about 1.5 s in all, inside the store's 2 s deadline). */
export const TRY_AGAIN_PAUSES_MS = [10, 20, 40, 80, 160, 320, 400, 400] as const;

/** No try starts later than this after the first, in milliseconds: the last ends before the store's 2 s deadline answers 503 (a claim made after its request was answered 503 would hold up the client's retry). */
export const TRY_AGAIN_WITHIN_MS = 1_500;

/** Whether Redis refused the command with `TRYAGAIN`: nothing was run, and it may be sent again. */
export function isTryAgain(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('TRYAGAIN');
}

/**
 * Sends a command over several keys of one hash slot again while a Redis Cluster answers
 * `TRYAGAIN`. A cluster moving that slot to another master (`redis-cli --cluster reshard`,
 * `rebalance`, `add-node` then a reshard) refuses such a command while some of its keys are on
 * the old master and some not yet (or not at all) on the new one, which is every code's or
 * refresh token's single-use claim (the record exists, its claim not yet) and every ended
 * session's mark for the time the slot's keys take to move (milliseconds for a slot of a few
 * hundred keys). Redis ran nothing, and says to send it again after a moment; node-redis follows
 * `MOVED` and `ASK` but throws `TRYAGAIN`, which became a 503 for the token request or sign-out.
 * After the last pause the error is thrown as before (a slot left half-moved by a reshard that
 * stopped: `redis-cli --cluster fix` puts it right).
 */
export async function triedAgain<T>(send: () => Promise<T>, pauses: readonly number[] = TRY_AGAIN_PAUSES_MS): Promise<T> {
  const started = performance.now();
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await send();
    } catch (error) {
      const pause = pauses[attempt];
      if (!isTryAgain(error) || pause === undefined || performance.now() - started + pause > TRY_AGAIN_WITHIN_MS) throw error;
      await sleep(pause);
    }
  }
}
