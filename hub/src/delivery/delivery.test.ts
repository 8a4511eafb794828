import { describe, expect, it } from '@jest/globals';
import { backoffDelay, outcomeOf } from './delivery.js';

describe('delivery backoff and outcomes', () => {
  const backoff = { baseMs: 1_000, maxMs: 60_000 };

  it('doubles per attempt, with jitter between half and all of the step, capped at the max', () => {
    expect(backoffDelay(1, backoff, () => 0)).toBe(500);
    expect(backoffDelay(1, backoff, () => 1)).toBe(1_000);
    expect(backoffDelay(3, backoff, () => 1)).toBe(4_000);
    expect(backoffDelay(3, backoff, () => 0)).toBe(2_000);
    expect(backoffDelay(30, backoff, () => 1)).toBe(60_000);
    expect(backoffDelay(10_000, backoff, () => 0.5)).toBe(45_000);
  });

  it('2xx is delivered; 404, 408, 429, 5xx and no answer are retried; any other 4xx or 3xx fails for good', () => {
    expect(outcomeOf(200)).toBe('delivered');
    expect(outcomeOf(204)).toBe('delivered');
    for (const status of [undefined, 404, 408, 429, 500, 502, 503]) expect(outcomeOf(status)).toBe('retry');
    // A maintenance page's redirect is temporary: retried, not failed for good (an outside review).
    for (const status of [302, 303, 307]) expect(outcomeOf(status)).toBe('retry');
    for (const status of [301, 308, 400, 401, 403, 405, 410]) expect(outcomeOf(status)).toBe('failed');
  });
});
