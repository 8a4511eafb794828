import { jest } from '@jest/globals';
import type { Request, Response } from 'express';
import { answerSpentLink, rememberSpentLink, SPENT_LINK_MEMORY_MS } from './spent-links.js';

/** A request as the route sees it: the portal session, and the link's token in the query (GET). */
function linkRequest(session: Partial<Request['session']>, token: string): Request {
  return { method: 'GET', query: { token }, session } as unknown as Request;
}

/** Whether the middleware answered with the remembered page (and what it said), or let the route go on. */
function answered(req: Request): string | undefined {
  let shown: string | undefined;
  const next = jest.fn();
  answerSpentLink('signup-verify', (_res, said) => (shown = said))(req, {} as Response, next);
  if (shown === undefined) expect(next).toHaveBeenCalled();
  return shown;
}

describe('a spent mailed link, answered again in the browser that spent it', () => {
  const session = {} as Partial<Request['session']>;
  const spentAt = Date.now();

  beforeAll(() => rememberSpentLink(linkRequest(session, 'the-token'), 'signup-verify', 'the-token', 'carol', spentAt));
  afterEach(() => jest.useRealTimers());

  test('a reload or Back within minutes shows the page again; the session keeps the digest, never the link', () => {
    jest.useFakeTimers({ now: spentAt + 60_000 });
    expect(answered(linkRequest(session, 'the-token'))).toBe('carol');
    expect(JSON.stringify(session)).not.toContain('the-token');
    expect(answered(linkRequest(session, 'another-token'))).toBeUndefined();
  });

  test('past ten minutes (a shared computer, the next person pressing Back), the route answers as for any spent link', () => {
    jest.useFakeTimers({ now: spentAt + SPENT_LINK_MEMORY_MS + 1 });
    expect(answered(linkRequest(session, 'the-token'))).toBeUndefined();
  });

  test('at most five links, and those past their time dropped when a new one is kept', () => {
    const busy = {} as Partial<Request['session']>;
    const start = Date.now();
    for (let i = 0; i < 7; i += 1) rememberSpentLink(linkRequest(busy, `t${i}`), 'signup-verify', `t${i}`, `u${i}`, start + i);
    expect(busy.spentLinks).toHaveLength(5);
    rememberSpentLink(linkRequest(busy, 'late'), 'signup-verify', 'late', 'late-user', start + SPENT_LINK_MEMORY_MS + 10);
    expect(busy.spentLinks!.map((entry) => entry.shown)).toEqual(['late-user']);
  });
});
