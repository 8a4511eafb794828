import type { Request, Response } from 'express';
import { useUiLocales } from '../i18n/locale-middleware.js';
import type { HubServices } from '../services.js';

export type InteractionDetails = Awaited<ReturnType<HubServices['provider']['interactionDetails']>>;

/**
 * The sign-in (oidc-provider interaction) this request belongs to; its pages are rendered in
 * the relying party's `ui_locales` where the reader chose no language ({@link useUiLocales}).
 */
export async function interactionDetails(provider: HubServices['provider'], req: Request, res: Response): Promise<InteractionDetails> {
  const details = await provider.interactionDetails(req, res);
  useUiLocales(req, res, details.params.ui_locales);
  return details;
}
