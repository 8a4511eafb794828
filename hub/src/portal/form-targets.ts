import { Router } from 'express';

/** Where each form's page is, by the path (an Express route) the form posts to. */
const PAGES: Record<string, string> = {
  '/account/name': '/account',
  '/account/password': '/account',
  '/account/email': '/account',
  '/account/sessions/end': '/account',
  '/account/sessions/end-others': '/account',
  '/account/consents/:clientId/revoke': '/account',
  '/account/two-step/enable': '/account/two-step',
  '/account/two-step/recovery-codes': '/account/two-step',
  '/account/two-step/disable': '/account/two-step',
};

/** The steps of a sign-in page (`/interaction/:uid`) that only take a form. */
const SIGN_IN_STEPS = ['login', 'two-step', 'confirm', 'abort'];

/**
 * A GET of an address that only takes a form: 303 to the page the form is on. The page that
 * answers a form keeps the form's address in the location bar (the recovery codes shown once, a
 * wrong password or code at sign-in), and Enter there, the address copied into another tab, or a
 * restored tab asked for it with a GET: "Page not found", where the person was one step from what
 * they were doing (a browser review: after "I have saved them", Back to the codes page asks to send
 * the form again; Enter in the location bar instead was a 404). The page itself decides what it
 * shows now (the sign-in, the account, or that it has expired).
 */
export function formTargetRoutes(): Router {
  const router = Router();
  for (const [path, page] of Object.entries(PAGES)) router.get(path, (_req, res) => res.redirect(303, page));
  for (const step of SIGN_IN_STEPS) {
    router.get(`/interaction/:uid/${step}`, (req, res) => res.redirect(303, `/interaction/${encodeURIComponent(String(req.params.uid))}`));
  }
  return router;
}
