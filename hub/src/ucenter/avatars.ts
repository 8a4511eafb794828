import { Router, type Response } from 'express';

/**
 * A default avatar (a grey silhouette, SVG), for every user: the hub keeps no avatars. Discuz!
 * X3.5 sets its avatar URLs on UC_API (`{UC_API}/avatar.php?uid=…&size=…`, and
 * `images/noavatar_*.gif`), so without these every avatar on every forum page was a broken
 * image (the hub's 404 page). Served as SVG whatever the name: an `<img>` shows it by its type.
 */
const SILHOUETTE =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 120" width="120" height="120">' +
  '<rect width="120" height="120" fill="#e5e7eb"/>' +
  '<circle cx="60" cy="46" r="22" fill="#9ca3af"/>' +
  '<path d="M18 120c4-26 21-40 42-40s38 14 42 40z" fill="#9ca3af"/></svg>';

export function ucenterAvatars(basePath: string): Router {
  const router = Router();
  const sendDefault = (res: Response) => {
    res.status(200).type('image/svg+xml').setHeader('Cache-Control', 'public, max-age=86400');
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    // Shown on the forum's pages, another origin: the hub's default (same-origin) would block it.
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    res.send(SILHOUETTE);
  };
  // `UC_API` with a trailing slash puts a double slash before the file, as with the client API.
  router.get([`${basePath}/avatar.php`, `${basePath}//avatar.php`], (req, res) => {
    // UCenter's "does this user have an avatar?" check (`check_file_exists=1`): never, here.
    if (req.query.check_file_exists !== undefined) return void res.status(200).type('text/plain').send('0');
    sendDefault(res);
  });
  router.get(`${basePath}/images/:file`, (req, res, next) => {
    if (!/^noavatar_(small|middle|big)\.gif$/.test(String(req.params.file))) return next();
    sendDefault(res);
  });
  return router;
}
