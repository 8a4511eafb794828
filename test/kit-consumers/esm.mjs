// A plain JavaScript ES module site using the packed kit, with the in-memory store (no Redis).
// Options come from the SSO_* environment variables; PORT says where to listen.
import express from 'express';
import { createSubsiteKit, ROUTES } from '@sso-hub/subsite-kit';

const resolved = import.meta.resolve('@sso-hub/subsite-kit');
if (!resolved.endsWith('/node_modules/@sso-hub/subsite-kit/dist/esm/index.js')) throw new Error(`import loaded ${resolved}`);

const sso = await createSubsiteKit({ logger: { warn: (message) => console.warn(message) } });
const app = express();
app.use(sso.router);
app.use(sso.lazyLogin);
app.get('/', (req, res) => {
  if (req.user) res.type('text').send(`Hello ${req.user.name}`);
  else res.type('html').send(`<a href="${ROUTES.login}?next=/">Sign in</a>`);
});
app.get('/private', sso.requireLogin, (req, res) => {
  res.type('text').send(`Private page for ${req.user.preferred_username}`);
});
app.use(sso.errorHandler);
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`listening on ${server.address().port}`));
