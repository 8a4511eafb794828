import type { Response } from 'express';

/**
 * Whether the response can take more: at once when its buffer has room, else once the reader
 * has taken what was written ('drain'); false when the connection closed meanwhile.
 */
function roomFor(res: Response): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return Promise.resolve(false);
  if (!res.writableNeedDrain) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (room: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(room);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

/**
 * Streams `lines` as the reader takes them, and ends the response. Each line is read from its
 * source only when the response has room (backpressure), and the source is left (its generator
 * returned) as soon as the reader goes away. Before (the audit export), every line was written
 * at once whatever the reader took: a reader that paused made the hub read the whole log and
 * hold it in memory (about 100 MB more for a 300,000-entry log), and one that went away still
 * had the whole log read for nobody (4 s of the hub's CPU at that size; a scale review).
 * @returns whether every line was written (false: the reader went away first).
 */
export async function writeLines(res: Response, lines: AsyncIterable<string>): Promise<boolean> {
  for await (const line of lines) {
    if (!(await roomFor(res))) return false;
    res.write(line);
  }
  if (!(await roomFor(res))) return false;
  res.end();
  return true;
}
