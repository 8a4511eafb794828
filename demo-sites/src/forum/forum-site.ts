import { randomBytes, timingSafeEqual } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import nunjucks from 'nunjucks';
import { decodeNote, UcClient, UcenterUnavailableError } from '../../../hub/src/testing/ucenter-client.js';
import type { DemoConfig } from '../demo-config.js';

const TEMPLATES = fileURLToPath(new URL('../../../templates', import.meta.url));

declare module 'express-session' {
  interface SessionData {
    member?: { uid: number; username: string };
    csrf?: string;
    /** Script tags UCenter answered (synlogin/synlogout), shown once on the next page, as Discuz! does. */
    scripts?: string;
    flash?: string;
  }
}

/**
 * How old a note's `time` may be, in seconds: Discuz!'s api/uc.php allows an hour, and so does
 * this stand-in. (The hub writes authcode's own expiry 60 s ahead, but authcode's tag does not
 * cover those digits: whoever holds a note URL can rewrite them, so the note's `time` is what holds.)
 */
const NOTE_MAX_AGE_SECONDS = 3600;

/** What the visitor reads when UCenter (the hub) is down or stalled: uc_client's empty answer, as Discuz! words it. */
const UNAVAILABLE = 'The sign-in service is unavailable right now; please try again shortly.';

/**
 * A UCenter-bound forum, as Discuz! behaves: its own member sessions, a login form that
 * calls `user/login` over UCenter's client API (UC_API = the hub), `user/synlogin` and
 * `user/synlogout` whose script tags it puts in the next page, and an `api/uc.php` note
 * handler (synlogin, synlogout, deleteuser, test). It knows nothing of OpenID Connect.
 */
export function createForumSite(config: DemoConfig): Express {
  const forum = config.forum;
  const views = new nunjucks.Environment(new nunjucks.FileSystemLoader(TEMPLATES), { autoescape: true });
  const store = new session.MemoryStore();
  /** uid → session ids, so deleteuser ends the member's sessions in every browser. */
  const sessionsOf = new Map<number, Set<string>>();
  const deleted: number[] = [];
  /** Usernames whose password changed at the hub (updatepw; Discuz! would give its copy a random password). */
  const passwordChanged: string[] = [];
  const uc = (req: Request) =>
    // uc_client sends the visitor's User-Agent (UCenter checks it against the md5 in `input`).
    new UcClient({ api: `${config.hubInternalUrl}/ucenter`, key: forum.ucKey, appId: forum.appId, userAgent: req.get('user-agent') ?? '' });

  const app = express();
  app.disable('x-powered-by');
  // Discuz!'s pages carry script tags of other applications (the sync notes), so no script CSP
  // here; but no framing (its login form), no sniffing, no referrer, and pages never cached.
  app.use((req, res, next) => {
    res.set('Content-Security-Policy', "frame-ancestors 'none'");
    res.set('X-Frame-Options', 'DENY');
    res.set('X-Content-Type-Options', 'nosniff');
    res.set('Referrer-Policy', 'no-referrer');
    if (!req.path.startsWith('/static/') && req.path !== '/favicon.ico') res.set('Cache-Control', 'no-store');
    next();
  });
  app.use('/static', express.static(`${TEMPLATES}/static`, { index: false }));
  // Browsers ask every origin for /favicon.ico: without it every forum page logged a 404 in the console (an outside review).
  app.get('/favicon.ico', (_req, res) => res.sendFile(`${TEMPLATES}/static/favicon.ico`, { maxAge: '1d' }));
  app.use(session({ name: 'forum.sid', secret: config.sessionSecret, store, resave: false, saveUninitialized: false, cookie: { httpOnly: true, sameSite: 'lax' } }));
  app.use(express.urlencoded({ extended: false, limit: '8kb' }));

  const signIn = (req: Request, member: { uid: number; username: string }) => {
    req.session.member = member;
    const ids = sessionsOf.get(member.uid) ?? new Set<string>();
    ids.add(req.sessionID);
    sessionsOf.set(member.uid, ids);
  };
  const csrfToken = (req: Request) => (req.session.csrf ??= randomBytes(16).toString('hex'));
  const csrfOk = (req: Request) => {
    // No form body (another content type): no token, a 403 (it read a property of undefined: a 500).
    const sent = Buffer.from(String((req.body as Record<string, unknown> | undefined)?._csrf ?? ''));
    const expected = Buffer.from(req.session.csrf ?? '');
    return expected.length > 0 && sent.length === expected.length && timingSafeEqual(sent, expected);
  };
  const render = (req: Request, res: Response) => {
    const { scripts, flash } = req.session;
    delete req.session.scripts;
    delete req.session.flash;
    res.type('html').send(views.render('demo/forum.njk', { forum, hubUrl: config.hubUrl, member: req.session.member, csrfToken: csrfToken(req), scripts, flash, deleted, passwordChanged }));
  };

  app.get('/', (req, res) => render(req, res));

  app.post('/login', async (req, res) => {
    if (!csrfOk(req)) return res.status(403).type('text').send('Bad form token; go back and try again.');
    const body = req.body as Record<string, string>;
    let answer: string[];
    try {
      answer = await uc(req).userLogin(String(body.username ?? ''), String(body.password ?? ''), 0, { ip: req.ip ?? '' });
    } catch (error) {
      if (!(error instanceof UcenterUnavailableError)) throw error;
      req.session.flash = UNAVAILABLE;
      return res.redirect(303, '/');
    }
    const [uid, username] = answer;
    const code = Number(uid);
    if (code > 0) {
      await new Promise<void>((resolve, reject) => req.session.regenerate((error) => (error ? reject(error) : resolve())));
      signIn(req, { uid: code, username: username! });
      req.session.flash = 'Signed in.';
      // Signed in here even when the other sites cannot be told (Discuz! shows the page without the notes).
      try {
        req.session.scripts = await uc(req).synlogin(code);
      } catch (error) {
        if (!(error instanceof UcenterUnavailableError)) throw error;
        req.session.flash = 'Signed in here; the other sites could not be told (the sign-in service is unavailable).';
      }
    } else {
      // -1 (no such user) and -2 (wrong password) read alike, as Discuz! X shows them: a form that
      // said 'No such user.' told anyone which names have a hub account (an attacker review).
      req.session.flash = code === -4 ? 'Too many attempts; try again later.' : 'Wrong username or password.';
    }
    return res.redirect(303, '/');
  });

  app.post('/logout', async (req, res) => {
    if (!csrfOk(req)) return res.status(403).type('text').send('Bad form token; go back and try again.');
    // As Discuz!: only a member signs out, so a visitor gets no sign-out notes to collect (their
    // codes for the kit's subsites end whatever session the browser that loads them has: README).
    if (!req.session.member) return res.redirect(303, '/');
    // Signed out here first: a member can always leave the forum, whatever UCenter's state.
    delete req.session.member;
    req.session.flash = 'Signed out.';
    try {
      req.session.scripts = await uc(req).synlogout();
    } catch (error) {
      if (!(error instanceof UcenterUnavailableError)) throw error;
      req.session.flash = 'Signed out here; the other sites could not be told (the sign-in service is unavailable).';
    }
    return res.redirect(303, '/');
  });

  // api/uc.php: UCenter's notes. Answers "1" for success, as every UCenter application does.
  // Sign-in notes seen in the last NOTE_MAX_AGE_SECONDS: each signs one browser in, once
  // (Discuz! itself does not check; a copied note URL must not sign in a second browser).
  const usedSignInNotes = new Map<string, number>();
  // GET, and POST for the notes that carry a body (updateapps: the application list), as Discuz!'s api/uc.php takes both.
  app.all('/api/uc.php', async (req, res) => {
    const note = decodeNote(String(req.query.code ?? ''), forum.ucKey);
    if (!note) return res.type('text').send('Invalid Request');
    if (Math.floor(Date.now() / 1000) - Number(note.time) > NOTE_MAX_AGE_SECONDS) return res.type('text').send('Authracation has expiried');
    switch (note.action) {
      case 'test':
        return res.type('text').send('1');
      case 'synlogin': {
        const uid = Number(note.uid);
        const now = Math.floor(Date.now() / 1000);
        for (const [seen, at] of usedSignInNotes) if (now - at > NOTE_MAX_AGE_SECONDS) usedSignInNotes.delete(seen);
        // Keyed by the note's 4-character key and what it decodes to, not by its text or its bytes:
        // base64 decoding ignores padding, whitespace and unused bits, and authcode's tag does not
        // cover its expiry digits (rewritable by XOR), so neither makes another note.
        const code = `${String(req.query.code).slice(0, 4)}:${new URLSearchParams(note).toString()}`;
        if (usedSignInNotes.has(code)) return res.type('text/javascript').send('');
        usedSignInNotes.set(code, now);
        if (uid > 0 && note.username) {
          // A new session id at sign-in: a session id planted before it signs nobody in.
          await new Promise<void>((resolve, reject) => req.session.regenerate((error) => (error ? reject(error) : resolve())));
          signIn(req, { uid, username: note.username });
        }
        return res.type('text/javascript').send('');
      }
      case 'synlogout':
        delete req.session.member;
        return res.type('text/javascript').send('');
      case 'deleteuser': {
        for (const uid of String(note.ids ?? '').split(',').map(Number).filter((id) => id > 0)) {
          for (const sid of sessionsOf.get(uid) ?? []) store.destroy(sid);
          sessionsOf.delete(uid);
          deleted.push(uid);
        }
        return res.type('text').send('1');
      }
      case 'updateapps':
        // The list of applications (uc_client caches it to know whether to ask for sync scripts).
        return res.type('text').send('1');
      case 'updatepw':
        if (note.username) passwordChanged.push(note.username);
        return res.type('text').send('1');
      default:
        return res.type('text').send('-1');
    }
  });

  // Anything else that fails: a plain page, never express's default with its stack trace.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return res.end();
    // A request the body parser refused (a charset it cannot read, too large): the client's 4xx, said plainly.
    const status = (error as { status?: unknown; expose?: unknown } | undefined)?.status;
    if (typeof status === 'number' && status >= 400 && status < 500 && (error as { expose?: unknown }).expose === true) {
      return res.status(status).type('text').send('The forum could not read this request.');
    }
    process.stderr.write(`forum: ${error instanceof Error ? error.name : 'error'} while answering a request\n`);
    return res.status(500).type('text').send('Something went wrong on the forum; please try again.');
  });

  return app;
}
