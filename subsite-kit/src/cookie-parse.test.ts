import { describe, expect, it } from '@jest/globals';
import type { Request, Response } from 'express';
import cookieParser from 'cookie-parser';
import fc from 'fast-check';
import { parseCookies } from './cookie-parse.js';

function run(middleware: (req: Request, res: Response, next: () => void) => void, req: Record<string, unknown>): Record<string, unknown> {
  let nexted = 0;
  middleware(req as unknown as Request, {} as Response, () => (nexted += 1));
  expect(nexted).toBe(1);
  return req;
}

const headers = [
  'a=1',
  'sso.sid=s%3Aabc.def; sso.request-login=1',
  'j=j%3A%7B%22x%22%3A1%7D; bad=j%3A%7Bnot-json',
  'dup=first; dup=second',
  ' spaced = value ; quoted="q v" ',
  'broken=%E0%A4%A; ok=%20',
  'novalue; =empty; x=1',
];

describe('parseCookies: req.cookies as cookie-parser makes it', () => {
  it.each(headers)('same cookies as cookie-parser for %j', (cookie) => {
    const ours = run(parseCookies(), { headers: { cookie } });
    const theirs = run(cookieParser(), { headers: { cookie } });
    expect({ ...(ours.cookies as object) }).toEqual({ ...(theirs.cookies as object) });
  });

  it('same cookies as cookie-parser for any header', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (cookie) => {
        const ours = run(parseCookies(), { headers: { cookie } });
        const theirs = run(cookieParser(), { headers: { cookie } });
        expect({ ...(ours.cookies as object) }).toEqual({ ...(theirs.cookies as object) });
      }),
    );
  });

  it('an empty object without a Cookie header', () => {
    const req = run(parseCookies(), { headers: {} });
    expect({ ...(req.cookies as object) }).toEqual({});
  });

  // Each property a page view adds to express's request costs V8 a new hidden class (the
  // request's prototype was set by express): cookie-parser's empty req.signedCookies and
  // undefined req.secret were two of them on every page (issue 14, kit page).
  it('adds req.cookies and nothing else to the request', () => {
    const req = run(parseCookies(), { headers: { cookie: 'a=1' } });
    expect(Object.keys(req).sort()).toEqual(['cookies', 'headers']);
  });

  it("leaves the site's own parser's work alone (mounted before the kit, with a secret)", () => {
    const own = { signed: 'yes' };
    const req = run(parseCookies(), { headers: { cookie: 'a=1' }, cookies: own, signedCookies: { s: '1' } });
    expect(req.cookies).toBe(own);
    expect(req.signedCookies).toEqual({ s: '1' });
  });
});

describe('sso.router on a page view', () => {
  it("gives the site req.cookies, JSON cookies decoded, and adds no cookie-parser leftovers (req.secret, req.signedCookies) to the request", async () => {
    const { default: request } = await import('supertest');
    const { makeSite } = await import('./test-support/site.js');
    const { app } = await makeSite(undefined);
    app.get('/page', (req, res) => {
      res.json({ cookies: req.cookies, own: Object.keys(req).filter((key) => ['cookies', 'signedCookies', 'secret'].includes(key)).sort() });
    });
    const res = await request(app).get('/page').set('Cookie', 'theme=dark; prefs=j%3A%7B%22a%22%3A1%7D');
    expect(res.body).toEqual({ cookies: { theme: 'dark', prefs: { a: 1 } }, own: ['cookies'] });
  });
});
