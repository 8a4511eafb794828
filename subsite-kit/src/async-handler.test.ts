import { describe, expect, it, jest } from '@jest/globals';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { catchRejections } from './async-handler.js';

const req = {} as Request;
const res = {} as Response;

/** Express 4 ignores a rejected promise from a handler; the kit mounts every async one through this. */
describe('catchRejections (Express 4 support)', () => {
  it('passes a rejection to next(error)', async () => {
    const failure = new Error('store down');
    const next = jest.fn() as unknown as NextFunction;
    const handler: RequestHandler = async () => { throw failure; };
    catchRejections(handler)(req, res, next);
    await new Promise((resolve) => setImmediate(resolve));
    expect(next).toHaveBeenCalledWith(failure);
  });

  it('passes a synchronous throw to next(error)', () => {
    const failure = new Error('bad');
    const next = jest.fn() as unknown as NextFunction;
    catchRejections(() => { throw failure; })(req, res, next);
    expect(next).toHaveBeenCalledWith(failure);
  });

  it('leaves a handler that succeeds alone, and returns no promise for Express 5 to catch twice', async () => {
    const next = jest.fn() as unknown as NextFunction;
    const result = catchRejections(async (_req, _res, done) => { done(); })(req, res, next);
    await new Promise((resolve) => setImmediate(resolve));
    expect(result).toBeUndefined();
    expect(next).toHaveBeenCalledTimes(1);
    expect(next).toHaveBeenCalledWith();
  });
});
