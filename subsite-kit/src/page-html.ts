import { escapeHtml } from './escape-html.js';

/**
 * The frame of every HTML page the kit answers with itself (a failed sign-in, the sign-out page,
 * an error): `lang`, the title naming what the page is about (WCAG 2.4.2), a viewport so a phone
 * lays it out at its own width rather than a 980 px desktop page shrunk to a third (WCAG 1.4.10),
 * and one `<main>` landmark around `body` (markup, escaped by the caller).
 */
export function kitPageHtml(title: string, body: string, mainAttributes = ''): string {
  return '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">'
    + '<meta name="viewport" content="width=device-width, initial-scale=1">'
    + `<title>${escapeHtml(title)}</title></head><body><main${mainAttributes}>${body}</main></body></html>`;
}
