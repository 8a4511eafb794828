import type { Response } from 'express';
import type { HubServices } from '../services.js';
import { signInGenerationOf } from './second-step.js';

/**
 * A new device cookie for the browser that has just renewed the account's sign-in generation
 * (a password change, two-step enrolment: it proved the password, or the password and a code,
 * a moment ago). Every device cookie from before the renewal proves nothing any more; this
 * browser stays a known device of the account, so guessers elsewhere cannot slow its owner.
 * Best effort: the change is made whether or not this works (it is the next sign-in's to make).
 */
export async function renewDeviceCookie(services: Pick<HubServices, 'users' | 'devices'>, res: Response, userId: string): Promise<void> {
  try {
    const user = await services.users.findById(userId);
    if (!user) return;
    const issued = services.devices.issue(user.id, signInGenerationOf(user));
    res.cookie(issued.name, issued.value, issued.options);
  } catch {
    // The store was unavailable a moment: the browser signs in as an unknown device next time.
  }
}
