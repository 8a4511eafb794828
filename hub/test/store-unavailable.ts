/**
 * What the store-fault tests assert of a page answered while the store is down or stalled
 * (DESIGN "Store down: fail closed with a clear 503, never hang"): how long it took, and that it
 * is the friendly 503 page with a Retry-After, within one store deadline.
 */
import { expect } from '@jest/globals';
import { SESSION_STORE_DEADLINE_MS } from '../src/http/portal-session.js';

/** One store deadline, and room for a loaded machine; two deadlines are past it. */
export const WITHIN_MS = SESSION_STORE_DEADLINE_MS + 1_500;

export interface TimedAnswer {
  status: number;
  html: string;
  ms: number;
  retryAfter: string | null;
}

/** Sends a request (aborted after `hangMs`: a request still open by then is a hang) and times its whole answer. */
export async function timed(send: (signal: AbortSignal) => Promise<Response>, hangMs: number): Promise<TimedAnswer> {
  const started = Date.now();
  const response = await send(AbortSignal.timeout(hangMs));
  const html = await response.text();
  return { status: response.status, html, ms: Date.now() - started, retryAfter: response.headers.get('retry-after') };
}

/** The friendly 503 page with a Retry-After, answered within one store deadline. */
export function expectUnavailableWithinDeadline(answer: TimedAnswer): void {
  expect(answer.status).toBe(503);
  expect(answer.html).toContain('temporarily unavailable');
  expect(answer.retryAfter).toBeTruthy();
  expect(answer.ms).toBeLessThan(WITHIN_MS);
}
