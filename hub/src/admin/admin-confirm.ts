import type { Request, Response } from 'express';
import type { HubServices } from '../services.js';
import { field, renderAdmin } from './admin-context.js';

/** What a confirmation page asks about (`admin:confirm.<kind>` in the locale files). */
export type ConfirmKind = 'deleteUser' | 'removeClient' | 'removeUcenter';

export interface ConfirmPage {
  kind: ConfirmKind;
  /** The console section the page belongs to (its navigation). */
  section: string;
  /** The form's address: the same POST route, for the resolved record. */
  action: string;
  /** Where "Cancel" goes: the record's own page. */
  cancel: string;
  /** Values the page's texts name (a username, a subsite's name). */
  what: Record<string, string | number>;
  /** Fields the confirming POST carries besides `confirmed` (the record's registration, to act on that one only). */
  carry?: Record<string, string>;
}

/**
 * The console's actions that cannot be undone (delete a user, remove a subsite or a UCenter
 * application) ask first. Their buttons used to act at one click (an exploratory review of the
 * console): a slip of the mouse deleted an account and pushed its forced logout to every subsite.
 * The button now posts without `confirmed`, which answers a page saying what will happen, with the
 * same POST carrying `confirmed=yes` and a way back; a program's POST names `confirmed=yes` itself.
 * True when the action may go on; otherwise the confirmation page has been sent.
 */
export function confirmedOrAsked(req: Request, res: Response, services: HubServices, page: ConfirmPage): boolean {
  if (field(req, 'confirmed') === 'yes') return true;
  renderAdmin(req, res, services, 'confirm.njk', { ...page });
  return false;
}
