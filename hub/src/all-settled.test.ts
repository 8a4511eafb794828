import { allSettledOrThrow } from './all-settled.js';

describe('allSettledOrThrow', () => {
  test('a failure is thrown only once every other promise has settled', async () => {
    let slowDone = false;
    const slow = new Promise<string>((resolve) => setTimeout(() => {
      slowDone = true;
      resolve('slow');
    }, 50));
    await expect(allSettledOrThrow([Promise.reject(new Error('first')), slow] as const)).rejects.toThrow('first');
    // Promise.all would have rejected at once, with the session's removal still in flight.
    expect(slowDone).toBe(true);
  });

  test('the first failure in order is the one thrown; all fulfilled gives the values in order', async () => {
    await expect(allSettledOrThrow([Promise.resolve(1), Promise.reject(new Error('a')), Promise.reject(new Error('b'))] as const)).rejects.toThrow('a');
    await expect(allSettledOrThrow([Promise.resolve(1), Promise.resolve('two')] as const)).resolves.toEqual([1, 'two']);
  });
});
