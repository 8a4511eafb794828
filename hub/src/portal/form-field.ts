import type { Request } from 'express';

/** A posted form field as a string, cut to `max` characters; '' when absent or not a string (a repeated field, a JSON body). */
export function formField(req: Request, name: string, max = 1024): string {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value.slice(0, max) : '';
}
