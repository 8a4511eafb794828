// A CommonJS site using the packed kit through require(), on Redis.
// Options come from the SSO_* environment variables; REDIS_URL and PORT from the environment too.
const express = require('express');
const { createClient } = require('redis');
const { createSubsiteKit, ROUTES } = require('@sso-hub/subsite-kit');

const resolved = require.resolve('@sso-hub/subsite-kit');
if (!resolved.endsWith('/node_modules/@sso-hub/subsite-kit/dist/cjs/index.js')) throw new Error(`require loaded ${resolved}`);

async function main() {
  const redis = createClient({ url: process.env.REDIS_URL });
  redis.on('error', (error) => console.error(`redis: ${error.message}`));
  await redis.connect();
  const sso = await createSubsiteKit({ redis, logger: { warn: (message) => console.warn(message) } });
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
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
