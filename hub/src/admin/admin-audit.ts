import { Router, type Request } from 'express';
import type { AuditEntry, AuditFilter } from '../audit/audit-log.js';
import type { HubServices } from '../services.js';
import { writeLines } from '../http/write-lines.js';
import { actorOf, renderAdmin } from './admin-context.js';

const SHOWN = 200; // entries on the console page; the export has them all

/**
 * The filter a request asks for. A user is given as the console shows them (a username or an
 * e-mail address) or by id: entries keep ids (and, for a failed sign-in, the login typed), so a
 * name that finds an account also matches that account's id. Before, "alice" matched only the
 * failed sign-ins typed as alice: none of her sign-ins, sign-outs or admin actions (an attacker's
 * review: the trail of a stolen admin session was invisible to a search by the admin's name).
 */
async function filterOf(req: Request, services: HubServices): Promise<AuditFilter> {
  const filter = textFilterOf(req);
  if (typeof filter.user !== 'string') return filter;
  // An id needs nothing more (a record found by its id has that id): only a name or an address is looked up.
  const user = await services.users.findByLogin(filter.user);
  return user && user.id !== filter.user ? { ...filter, user: [filter.user, user.id] } : filter;
}

/** An ISO date and time without an offset (`2026-12-07T10:00`, `2026-12-07 10:00:05`). */
const NO_OFFSET = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?)$/;

/**
 * A `since` or `until` as typed, in UTC unless it names an offset: the page shows its times in
 * UTC, and a time without one was read in the server's time zone before (on a hub with
 * TZ=Asia/Shanghai, `2026-12-07T10:00` searched from 02:00 UTC), while a date alone was UTC.
 */
export function timeOf(typed: string): number | undefined {
  if (!typed) return undefined;
  const plain = NO_OFFSET.exec(typed);
  const value = Date.parse(plain ? `${plain[1]}T${plain[2]}Z` : typed);
  return Number.isNaN(value) ? undefined : value;
}

function textFilterOf(req: Request): AuditFilter {
  const text = (name: string) => (typeof req.query[name] === 'string' ? (req.query[name] as string).trim().slice(0, 200) : '');
  const time = (name: string) => timeOf(text(name));
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

/**
 * Usernames and client names for the ids in audit entries, looked up when the page is shown
 * (entries keep ids only: a rename shows at once, and a deleted user leaves just the id).
 */
async function displayNames(services: HubServices, entries: AuditEntry[]): Promise<{ users: Record<string, string>; clients: Record<string, string> }> {
  const userIds = [...new Set(entries.flatMap((entry) => [entry.actor, entry.subject]).filter((id): id is string => Boolean(id)))];
  const clientIds = [...new Set(entries.flatMap((entry) => [entry.client, entry.actor]).filter((id): id is string => Boolean(id)))];
  const [users, clients] = await Promise.all([
    Promise.all(userIds.map((id) => services.users.findById(id))),
    Promise.all(clientIds.map((id) => services.clients.find(id))),
  ]);
  // No prototype: an id such as "constructor" (a typed login) must not find Object's members.
  const names = { users: Object.create(null) as Record<string, string>, clients: Object.create(null) as Record<string, string> };
  users.forEach((user, index) => {
    if (user) names.users[userIds[index]!] = user.username;
  });
  clients.forEach((client, index) => {
    if (client && client.name !== client.clientId) names.clients[clientIds[index]!] = client.name;
  });
  return names;
}

/** Entries as JSON lines. */
async function* jsonLines(entries: AsyncIterable<AuditEntry>): AsyncGenerator<string> {
  for await (const entry of entries) yield `${JSON.stringify(entry)}\n`;
}

/** The audit log: filterable in the console and exported as JSON lines with the same filter. */
export function adminAuditRoutes(services: HubServices): Router {
  const { audit } = services;
  const router = Router();

  router.get('/admin/audit', async (req, res) => {
    const filter = await filterOf(req, services);
    // At most AUDIT_SCAN_LIMIT entries examined per page: a filter that matches nothing read the
    // whole log before (1 to 2 s at 200,000 entries). Where it stopped, the page says so and links
    // to the same search from there on (older entries).
    const { entries, stopped, more } = await audit.page(filter, SHOWN);
    const names = await displayNames(services, entries);
    const query = new URLSearchParams(Object.entries(req.query).filter((pair): pair is [string, string] => typeof pair[1] === 'string' && pair[0] !== 'done'));
    const older = stopped ? new URLSearchParams(query) : undefined;
    older?.set('until', new Date(stopped!.until).toISOString());
    // A full page links to the next (older) one: before, the page showed the newest 200 and no way on.
    const next = more ? new URLSearchParams(query) : undefined;
    next?.set('until', new Date(more!.until).toISOString());
    renderAdmin(req, res, services, 'audit.njk', {
      section: 'audit',
      filter: req.query,
      // A time the page could not read is said, not silently dropped (the search ran without it).
      unreadTimes: (['since', 'until'] as const).filter((name) => typeof req.query[name] === 'string' && (req.query[name] as string).trim() !== '' && timeOf((req.query[name] as string).trim().slice(0, 200)) === undefined),
      entries,
      names,
      exportUrl: `/admin/audit.jsonl?${query.toString()}`,
      ...(next ? { nextUrl: `/admin/audit?${next.toString()}` } : {}),
      ...(stopped ? { stopped: { examined: stopped.examined, until: stopped.until, olderUrl: `/admin/audit?${older!.toString()}` } } : {}),
    });
  });

  router.get('/admin/audit.jsonl', async (req, res) => {
    const filter = await filterOf(req, services);
    // A download of the log (every sign-in's account and IP address, unless filtered) is an admin
    // action like the others: recorded with its filter as typed, before the first line is sent, so
    // one cancelled is on record too. Before, a stolen admin session took the whole log unseen.
    const typed = textFilterOf(req);
    await audit.record({
      event: 'admin.audit.export',
      ...actorOf(req, res),
      detail: {
        ...(typed.event ? { event: typed.event } : {}),
        ...(typeof typed.user === 'string' ? { user: typed.user } : {}),
        ...(typed.client ? { client: typed.client } : {}),
        ...(typed.since !== undefined ? { since: new Date(typed.since).toISOString() } : {}),
        ...(typed.until !== undefined ? { until: new Date(typed.until).toISOString() } : {}),
      },
    });
    res.status(200).type('application/x-ndjson');
    res.setHeader('Content-Disposition', 'attachment; filename="sso-hub-audit.jsonl"');
    // As the reader takes them: a paused or gone reader no longer has the whole log read (and held).
    await writeLines(res, jsonLines(audit.entries(filter)));
  });

  return router;
}
