import type { Request, Response } from 'express';

/**
 * The language of the person making this request, for the mail it causes: the portal's
 * chosen locale when the i18n middleware set one, else the first Accept-Language tag (the
 * mailer maps any tag to a language it has).
 */
export function requestLocale(req: Request, res: Response): string {
  const chosen = res.locals.locale as unknown;
  if (typeof chosen === 'string' && chosen) return chosen;
  return req.get('accept-language')?.split(',', 1)[0]?.split(';', 1)[0]?.trim() || 'en';
}
