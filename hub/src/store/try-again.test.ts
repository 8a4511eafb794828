import { describe, expect, it } from '@jest/globals';
import { triedAgain } from './try-again.js';

const tryAgain = () => new Error('TRYAGAIN Multiple keys request during rehashing of slot');

describe('triedAgain', () => {
  it('sends the command again while Redis answers TRYAGAIN, and returns its answer', async () => {
    let sent = 0;
    const reply = await triedAgain(async () => {
      sent += 1;
      if (sent < 3) throw tryAgain();
      return 'OK';
    }, [1, 1, 1]);
    expect(reply).toBe('OK');
    expect(sent).toBe(3);
  });

  it('never sends again after another error (the command may have run)', async () => {
    let sent = 0;
    await expect(triedAgain(async () => {
      sent += 1;
      throw new Error('redis command timed out');
    }, [1, 1])).rejects.toThrow('timed out');
    expect(sent).toBe(1);
  });

  it('throws the TRYAGAIN once the pauses are spent', async () => {
    let sent = 0;
    await expect(triedAgain(async () => {
      sent += 1;
      throw tryAgain();
    }, [1, 1])).rejects.toThrow(/^TRYAGAIN/);
    expect(sent).toBe(3);
  });
});
