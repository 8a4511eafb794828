import type { RequestHandler } from 'express';
import { ROUTES } from '../context.js';
import { outcomeOf, type KitInstruments } from './instruments.js';

/** Counts how the kit answered what the hub sends: sync beacons and signed notices. */
export function countAnswers(instruments: KitInstruments): RequestHandler {
  const counted: Record<string, (status: number) => void> = {
    [ROUTES.synclogin]: (status) => instruments.syncRequest('login', outcomeOf(status)),
    [ROUTES.synclogout]: (status) => instruments.syncRequest('logout', outcomeOf(status)),
    [ROUTES.userdelete]: (status) => instruments.hubNotice('userdelete', outcomeOf(status)),
    [ROUTES.backchannelLogout]: (status) => instruments.hubNotice('backchannel_logout', outcomeOf(status)),
  };
  return (req, res, next) => {
    const count = Object.hasOwn(counted, req.path) ? counted[req.path] : undefined;
    if (count) res.once('finish', () => count(res.statusCode));
    next();
  };
}
