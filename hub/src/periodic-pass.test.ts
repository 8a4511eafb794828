import { PeriodicPass } from './periodic-pass.js';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('PeriodicPass', () => {
  test('the first pass at once, the next after the delay the last returned, never two at a time; stop() waits for the one running', async () => {
    const started: number[] = [];
    let inFlight = 0;
    let most = 0;
    let release: (() => void) | undefined;
    const periodic = new PeriodicPass(async () => {
      started.push(Date.now());
      inFlight += 1;
      most = Math.max(most, inFlight);
      if (started.length === 3) await new Promise<void>((resolve) => (release = resolve));
      inFlight -= 1;
      return started.length === 1 ? 0 : 40; // "more waiting" once, then a pause
    }, () => 1_000);
    periodic.start();
    periodic.start(); // a second start changes nothing
    await tick(20);
    expect(started).toHaveLength(2); // at once, then at once again (delay 0)
    await tick(60);
    expect(started).toHaveLength(3); // after the 40 ms pause
    expect(started[2]! - started[1]!).toBeGreaterThanOrEqual(35);
    let stopped = false;
    const stopping = periodic.stop().then(() => (stopped = true));
    await tick(10);
    expect(stopped).toBe(false); // waits for the pass in progress
    release!();
    await stopping;
    await tick(80);
    expect(started).toHaveLength(3); // nothing after stop
    expect(most).toBe(1);
  });

  test('a failed pass is reported and the next is tried after the delay the report gives', async () => {
    const errors: unknown[] = [];
    let passes = 0;
    const periodic = new PeriodicPass(async () => {
      passes += 1;
      if (passes === 1) throw new Error('store down');
      return 10_000;
    }, (error) => (errors.push(error), 30));
    periodic.start();
    await tick(80);
    expect(errors).toEqual([new Error('store down')]);
    expect(passes).toBe(2);
    await periodic.stop();
  });
});
