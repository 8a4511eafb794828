# One image for the hub and the demo sites; docker-compose.yml picks the command per service.
# The hub runs compiled by tsc (hub/dist; its CLI is hub/dist/cli.js); the demo sites run their
# TypeScript through tsx (a devDependency), so every dependency is installed.
FROM node:22-bookworm-slim

WORKDIR /app

# The manifests first, so the dependency layer is rebuilt only when they change. Every
# workspace's package.json must be present for `npm install` to link the workspaces.
COPY package.json package-lock.json ./
COPY hub/package.json hub/
COPY subsite-kit/package.json subsite-kit/
COPY demo-sites/package.json demo-sites/
COPY e2e/package.json e2e/
# argon2, esbuild and swc ship prebuilt binaries for linux-x64/arm64: no compiler needed.
# `npm install`, not `npm ci`: the lockfile is written on machines whose npm omits registry
# addresses, which leaves other platforms' optional packages out of it, and `npm ci` refuses such
# a lockfile; `npm install` installs the versions it locks (as .ci/run does).
RUN npm install --no-audit --no-fund && npm cache clean --force

COPY --chown=root:root . .
# The hub as JavaScript: no transpiler on the serving path (tsx's transform costs every function
# made at run time a `__name` call; docs/performance.md).
RUN npm run build

# Set after the install: NODE_ENV=production before it would skip the devDependencies (tsx).
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false

# The code and node_modules stay root-owned and read-only to the process that serves.
USER node

# Overridden per service in docker-compose.yml. Node itself: the process the container starts is
# the one that gets SIGTERM (npx would exit without passing it on, and the hub would be killed
# without its graceful stop; hub/test/container-command.test.ts).
CMD ["node", "hub/dist/main.js"]
