import { StoreClock } from './store-clock.js';

function logger() {
  const lines: { message: string; fields: unknown }[] = [];
  return { lines, warn: (message: string, fields?: unknown) => lines.push({ message, fields }) };
}

describe('the store clock', () => {
  test("goes by the store's time: this process's clock plus the offset measured against it", async () => {
    const log = logger();
    const clock = new StoreClock({ time: async () => Date.now() + 2_000 }, log);
    expect(Math.abs(clock.now() - Date.now())).toBeLessThan(50); // nothing measured yet
    expect(await clock.sync()).toBe(true);
    expect(Math.abs(clock.offsetMs - 2_000)).toBeLessThan(50);
    expect(Math.abs(clock.now() - (Date.now() + 2_000))).toBeLessThan(50);
    // Told once, with what to fix; not again for the same offset.
    await clock.sync();
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]!.message).toMatch(/clock differs from the store's/);
    expect(JSON.stringify(log.lines[0]!.fields)).toMatch(/NTP/);
  });

  test('keeps the last offset when the store fails or answers too slowly to tell', async () => {
    let mode: 'ok' | 'fail' | 'slow' = 'ok';
    const clock = new StoreClock({
      time: async () => {
        if (mode === 'fail') throw new Error('down');
        if (mode === 'slow') await new Promise((resolve) => setTimeout(resolve, 300));
        return Date.now() - 1_000;
      },
    }, logger());
    expect(await clock.sync()).toBe(true);
    const offset = clock.offsetMs;
    mode = 'fail';
    expect(await clock.sync()).toBe(false);
    mode = 'slow';
    expect(await clock.sync()).toBe(false);
    expect(clock.offsetMs).toBe(offset);
  });

  test('a clock that cannot be read is said so after three tries in a row, once; until a first reading it is tried every second', async () => {
    const log = logger();
    let answer = false;
    let calls = 0;
    const clock = new StoreClock({
      time: async () => {
        calls += 1;
        if (!answer) throw new Error('down');
        return Date.now() + 3_000;
      },
    }, log, 60_000);
    for (let i = 0; i < 4; i += 1) await clock.sync();
    expect(log.lines.map((line) => line.message)).toEqual(["the store's clock could not be read; claims of codes and refresh tokens are compared on this process's clock until it can"]);
    // Started while the store is down: a reading within seconds of its return, not after the 60 s refresh.
    calls = 0;
    clock.start();
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    expect(calls).toBeGreaterThanOrEqual(1);
    answer = true;
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    clock.stop();
    expect(Math.abs(clock.offsetMs - 3_000)).toBeLessThan(100);
  });

  test('a small offset is not logged', async () => {
    const log = logger();
    await new StoreClock({ time: async () => Date.now() + 100 }, log).sync();
    expect(log.lines).toHaveLength(0);
  });
});
