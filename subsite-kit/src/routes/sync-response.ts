import type { Request, Response } from 'express';

/** A 1×1 transparent GIF: an `<img>` beacon needs a real image to fire `load` (a 204 fires `error`). */
export const TRANSPARENT_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/**
 * Answers a sync request the way the hub's page loaded it: an empty script for a legacy
 * `<script>` tag (`Sec-Fetch-Dest: script`), otherwise the GIF for the default `<img>` beacon.
 */
export function sendSyncAnswer(req: Request, res: Response): void {
  res.set('Cache-Control', 'no-store');
  res.set('X-Content-Type-Options', 'nosniff');
  // The hub's page embeds this cross-origin; let it load even where the app sets a strict CORP.
  res.set('Cross-Origin-Resource-Policy', 'cross-origin');
  res.vary('Sec-Fetch-Dest');
  if (req.get('sec-fetch-dest') === 'script') {
    res.status(200).type('application/javascript').send('');
  } else {
    res.status(200).type('image/gif').send(TRANSPARENT_GIF);
  }
}
