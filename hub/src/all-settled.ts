/**
 * `Promise.all` that settles only once every promise has: it then throws the first failure (in
 * the promises' order), if any, else gives the values in order. For work sent side by side where
 * nothing may be answered while part of it is still in flight (the end of a sign-in: an error
 * page sent during the old session's removal would let express-session store that session again).
 */
export async function allSettledOrThrow<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
