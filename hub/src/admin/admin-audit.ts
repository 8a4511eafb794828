import { Router, type Request } from 'express';
import type { AuditFilter } from '../audit/audit-log.js';
import type { HubServices } from '../services.js';
import { renderAdmin } from './admin-context.js';

const SHOWN = 200; // entries on the console page; the export has them all

function filterOf(req: Request): AuditFilter {
  const text = (name: string) => (typeof req.query[name] === 'string' ? (req.query[name] as string).trim().slice(0, 200) : '');
  const time = (name: string) => {
    const value = Date.parse(text(name));
    return Number.isNaN(value) ? undefined : value;
  };
  const since = time('since');
  const until = time('until');
  return {
    ...(text('event') ? { event: text('event') } : {}),
    ...(text('user') ? { user: text('user') } : {}),
    ...(text('client') ? { client: text('client') } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
  };
}

/** The audit log: filterable in the console and exported as JSON lines with the same filter. */
export function adminAuditRoutes(services: HubServices): Router {
  const { audit } = services;
  const router = Router();

  router.get('/admin/audit', async (req, res) => {
    const filter = filterOf(req);
    const entries = await audit.search(filter, SHOWN);
    const query = new URLSearchParams(Object.entries(req.query).filter((pair): pair is [string, string] => typeof pair[1] === 'string' && pair[0] !== 'done'));
    renderAdmin(req, res, services, 'audit.njk', { section: 'audit', filter: req.query, entries, exportUrl: `/admin/audit.jsonl?${query.toString()}` });
  });

  router.get('/admin/audit.jsonl', async (req, res) => {
    res.status(200).type('application/x-ndjson');
    res.setHeader('Content-Disposition', 'attachment; filename="sso-hub-audit.jsonl"');
    for await (const entry of audit.entries(filterOf(req))) res.write(`${JSON.stringify(entry)}\n`);
    res.end();
  });

  return router;
}
