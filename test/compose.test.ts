import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { CONFIG_KEYS, checkServerStart, loadConfig } from '../hub/src/config.js';

/**
 * No Docker engine runs where the tests run, so docker-compose.yml (production) and
 * docker-compose.demo.yml (the demo, layered on top) are checked as data: the files they
 * run exist, every variable they read is documented and read by the code, Redis persists
 * and reports health, the ports are the documented ones, production carries no demo, and
 * the fleet is two hub replicas behind nginx with health checks. (test/nginx.test.ts runs
 * the nginx configuration for real with Debian's nginx.)
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
const demoText = readFileSync(join(ROOT, 'docker-compose.demo.yml'), 'utf8');
const envExampleText = readFileSync(join(ROOT, '.env.example'), 'utf8');
const readmeText = readFileSync(join(ROOT, 'README.md'), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | { published?: string | number; target?: number })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[] };
  restart?: string;
  volumes?: (string | { target?: string })[];
}

type ComposeFile = { services: Record<string, Service>; volumes?: Record<string, unknown> };
// `merge`: YAML merge keys (`<<: *hub`), which docker compose resolves too.
const production = parse(composeText, { merge: true }) as ComposeFile;
const demo = parse(demoText, { merge: true }) as ComposeFile;

/** `docker compose -f docker-compose.yml -f docker-compose.demo.yml`: services merged, environments merged key by key. */
function merge(base: ComposeFile, overlay: ComposeFile): ComposeFile {
  const merged: Record<string, Service> = { ...base.services };
  for (const [name, service] of Object.entries(overlay.services)) {
    const under = merged[name];
    merged[name] = under
      ? { ...under, ...service, environment: { ...environmentOf(under), ...environmentOf(service) } }
      : service;
  }
  return { ...base, services: merged, volumes: { ...base.volumes, ...overlay.volumes } };
}

const compose = merge(production, demo);
const services = compose.services;

/** The hub replicas behind nginx (service `lb`). */
const HUBS = ['hub-1', 'hub-2'] as const;
const APP_SERVICES = [...HUBS, 'bbs', 'wiki', 'shop', 'forum'] as const;
const DEMO_SITES = ['bbs', 'wiki', 'shop', 'forum'] as const;
/** Published ports: browsers reach the hub through nginx; the replicas are not published. */
const EXPECTED_PORTS: Record<string, number> = { lb: 4000, bbs: 4001, wiki: 4002, shop: 4003, forum: 4004 };

/** `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`, `${VAR?err}` (compose interpolation). */
const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}/g;

/** Resolves compose interpolation as `docker compose` does with an environment of `env` (none by default). */
function interpolate(value: string, env: Record<string, string> = {}): string {
  return value.replace(VARIABLE, (_match, name: string, operator: string | undefined, argument: string | undefined) => {
    const set = env[name];
    switch (operator) {
      case ':-': return set ? set : argument ?? '';
      case '-': return set ?? argument ?? '';
      case ':?':
      case '?':
        if (set === undefined || (operator === ':?' && set === '')) throw new Error(`${name} is required: ${argument}`);
        return set;
      case ':+': return set ? argument ?? '' : '';
      case '+': return set !== undefined ? argument ?? '' : '';
      default: return set ?? '';
    }
  });
}

/** Every string value anywhere in the parsed file (comments are not values). */
function strings(node: unknown): string[] {
  if (typeof node === 'string') return [node];
  if (Array.isArray(node)) return node.flatMap(strings);
  if (node && typeof node === 'object') return Object.entries(node).flatMap(([key, value]) => [key, ...strings(value)]);
  return [];
}

/** A service's environment as raw (uninterpolated) name → value. */
function environmentOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry) => {
      const at = entry.indexOf('=');
      return at === -1 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
    }));
  }
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, value === null ? '' : String(value)]));
}

function commandOf(service: Service): string[] {
  const { command } = service;
  if (command === undefined) return [];
  return Array.isArray(command) ? command : command.split(/\s+/).filter(Boolean);
}

/** Variables documented in .env.example: `NAME=value` with a comment on the line above. */
function documentedVariables(): Map<string, string> {
  const lines = envExampleText.split(/\r?\n/);
  const documented = new Map<string, string>();
  lines.forEach((line, index) => {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(line);
    const comment = lines[index - 1]?.trim() ?? '';
    if (match && comment.startsWith('#') && comment.length > 2) documented.set(match[1]!, comment);
  });
  return documented;
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(entry.name) && !/\.test\.ts$/.test(entry.name) ? [path] : [];
  });
}

/** The host and container ports of a `ports:` entry, with defaults interpolated. */
function publishedPorts(service: Service): { host: number; container: number }[] {
  return (service.ports ?? []).map((entry) => {
    if (typeof entry !== 'string') return { host: Number(entry.published), container: Number(entry.target) };
    const parts = interpolate(entry).split(':');
    const container = Number(parts.at(-1)!.split('/')[0]);
    const host = parts.length >= 2 ? Number(parts.at(-2)) : container;
    return { host, container };
  });
}

describe('docker-compose.yml with docker-compose.demo.yml', () => {
  it('production has redis, two hub replicas and nginx in front; the demo adds the three demo sites and the UCenter forum', () => {
    expect(Object.keys(production.services).sort()).toEqual(['hub-1', 'hub-2', 'lb', 'redis']);
    expect(Object.keys(services).sort()).toEqual(['bbs', 'forum', 'hub-1', 'hub-2', 'lb', 'mailpit', 'redis', 'shop', 'wiki']);
  });

  it.each(HUBS)('the demo sends %s\'s mail to Mailpit, whose SMTP port stays on the compose network', (hub) => {
    expect(interpolate(environmentOf(services[hub]!).SMTP_URL ?? '')).toBe('smtp://mailpit:1025');
    expect(services.mailpit!.image).toMatch(/^axllent\/mailpit:v\d+\.\d+/);
    expect(publishedPorts(services.mailpit!)).toEqual([{ host: 8025, container: 8025 }]);
    const dependsOn = services[hub]!.depends_on as Record<string, { condition?: string }>;
    expect(Object.keys(dependsOn).sort()).toEqual(['mailpit', 'redis']);
    expect(dependsOn.redis?.condition).toBe('service_healthy');
    // Production sends no mail until SMTP_URL is set, and never keeps a development outbox.
    const productionEnv = environmentOf(production.services[hub]!);
    expect(interpolate(productionEnv.SMTP_URL ?? '')).toBe('');
    expect(interpolate(productionEnv.MAIL_DEV_OUTBOX ?? '')).toBe('false');
  });

  describe('production carries no demo', () => {
    it('runs no seed unless one is configured, and no demo users or known secrets appear in it', () => {
      for (const hub of HUBS) expect(interpolate(environmentOf(production.services[hub]!).HUB_SEED_FILE ?? '')).toBe('');
      expect(composeText).not.toMatch(/compose-seed|demo-only|alice|password-1/);
      const config = loadConfig(Object.fromEntries(Object.entries(environmentOf(production.services['hub-1']!)).map(([name, value]) => [name, interpolate(value)])));
      expect(config.HUB_SEED_FILE).toBeUndefined();
      expect(config.HUB_JWKS).toBeUndefined();
      expect(config.HUB_COOKIE_SECRETS).toBeUndefined();
    });

    it('the demo is an explicit opt-in layered on top: it seeds the demo file (on both replicas: create-only)', () => {
      for (const hub of HUBS) expect(environmentOf(demo.services[hub]!).HUB_SEED_FILE).toBe('demo-sites/compose-seed.yaml');
      // Production keeps sign-up closed; the demo opens it.
      for (const hub of HUBS) expect(interpolate(environmentOf(production.services[hub]!).HUB_SIGNUP ?? '')).toBe('closed');
      for (const hub of HUBS) expect(environmentOf(services[hub]!).HUB_SIGNUP).toBe('open');
      expect(existsSync(join(ROOT, 'demo-sites/compose-seed.yaml'))).toBe(true);
    });
  });

  describe('commands', () => {
    it.each(DEMO_SITES)('%s runs a file that exists in the repo, in node itself with tsx as loader (signals reach it)', (name) => {
      const command = commandOf(services[name]!);
      // Not `npx tsx …`: npx exits on SIGTERM without passing it on (hub/test/container-command.test.ts).
      expect(command.slice(0, 3)).toEqual(['node', '--import', 'tsx']);
      const files = command.filter((arg) => /\.(ts|js|mjs)$/.test(arg));
      expect(files).toHaveLength(1);
      for (const file of files) expect({ file, exists: existsSync(join(ROOT, file)) }).toEqual({ file, exists: true });
    });

    it.each(HUBS)('%s runs the compiled hub in node itself (signals reach it), the file the build project writes', (name) => {
      // Built in the image by `npm run build` (tsc -p hub/tsconfig.build.json: hub/src → hub/dist).
      expect(commandOf(services[name]!)).toEqual(['node', 'hub/dist/main.js']);
      const project = JSON.parse(readFileSync(join(ROOT, 'hub/tsconfig.build.json'), 'utf8')) as { compilerOptions: { rootDir: string; outDir: string } };
      expect(project.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
      expect(existsSync(join(ROOT, 'hub/src/main.ts'))).toBe(true);
      // The build script compiles that project, and the image runs it after the sources are in.
      const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
      expect(scripts.build).toMatch(/tsc -p hub\/tsconfig\.build\.json$/);
      const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
      expect(dockerfile).toMatch(/^RUN npm run build$/m);
      expect(dockerfile.search(/^RUN npm run build$/m)).toBeGreaterThan(dockerfile.search(/^COPY --chown=root:root \. \.$/m));
    });

    it('runs the documented entry points', () => {
      for (const hub of HUBS) expect(commandOf(services[hub]!)).toContain('hub/dist/main.js');
      for (const site of DEMO_SITES) expect(commandOf(services[site]!)).toContain(`demo-sites/src/${site}.ts`);
    });

    it('every command anywhere that names a source file names one that exists', () => {
      for (const [name, service] of Object.entries(services)) {
        for (const arg of commandOf(service).filter((a) => /^[\w./-]+\.(ts|js|mjs)$/.test(a))) {
          // A compiled file names the source it is built from (hub/dist/X.js ← hub/src/X.ts).
          const source = arg.startsWith('hub/dist/') ? arg.replace(/^hub\/dist\/(.*)\.js$/, 'hub/src/$1.ts') : arg;
          expect({ service: name, file: source, exists: existsSync(join(ROOT, source)) }).toEqual({ service: name, file: source, exists: true });
        }
      }
    });
  });

  describe('variables', () => {
    const used = new Set([...strings(production), ...strings(demo)].flatMap((value) => [...value.matchAll(VARIABLE)].map((match) => match[1]!)));

    it('uses interpolation with defaults, so a bare checkout starts', () => {
      expect(used.size).toBeGreaterThan(0);
      for (const value of [...strings(production), ...strings(demo)]) {
        for (const match of value.matchAll(VARIABLE)) expect({ variable: match[0], hasDefault: match[2] === ':-' }).toEqual({ variable: match[0], hasDefault: true });
      }
    });

    it('documents every ${VAR} of the compose file in .env.example, with a comment line', () => {
      const documented = documentedVariables();
      const missing = [...used].filter((name) => !documented.has(name));
      expect(missing).toEqual([]);
    });

    it('documents nothing in .env.example that the compose file does not use', () => {
      const unused = [...documentedVariables().keys()].filter((name) => !used.has(name));
      expect(unused).toEqual([]);
    });

    it.each(HUBS)('sets on %s exactly the keys of the hub configuration schema: every one, nothing else', (hub) => {
      expect(Object.keys(environmentOf(production.services[hub]!)).sort()).toEqual([...CONFIG_KEYS].sort());
    });

    it('documents every hub variable in README.md, .env.example and compose alike', () => {
      const section = readmeText.slice(readmeText.indexOf('### Configuration'));
      const table = section.slice(0, section.search(/\n#{2,3} (?!Configuration)/));
      const inReadme = new Set(
        table
          .split('\n')
          .filter((line) => line.startsWith('| `'))
          .flatMap((line) => [...line.split('|')[1]!.matchAll(/`([A-Z0-9_]+)`/g)].map((match) => match[1]!)),
      );
      expect([...inReadme].sort()).toEqual([...CONFIG_KEYS].sort());
      const documented = documentedVariables();
      expect(CONFIG_KEYS.filter((name) => !documented.has(name))).toEqual([]);
    });

    // PUBLISH_ADDRESS, which the production file uses, and the demo's variables were in .env.example
    // and nowhere in the README (an operator review).
    it('names every variable of .env.example in README.md: the hub\'s in its configuration table, the others under "Compose and demo settings"', () => {
      const section = readmeText.slice(readmeText.indexOf('### Compose and demo settings'));
      const table = section.slice(0, section.search(/\n#{2,3} (?!Compose and demo settings)/));
      const inTable = new Set(table.split('\n').filter((line) => line.startsWith('| `')).flatMap((line) => [...line.split('|')[1]!.matchAll(/`([A-Z0-9_]+)`/g)].map((match) => match[1]!)));
      const others = [...documentedVariables().keys()].filter((name) => !CONFIG_KEYS.includes(name));
      expect(others.length).toBeGreaterThan(0);
      expect(others.filter((name) => !inTable.has(name))).toEqual([]);
      expect([...inTable].filter((name) => CONFIG_KEYS.includes(name) || !documentedVariables().has(name))).toEqual([]);
    });

    it('gives the hub a configuration that loadConfig accepts, with the defaults', () => {
      const raw = environmentOf(production.services['hub-1']!);
      const env = Object.fromEntries(Object.entries(raw).map(([name, value]) => [name, interpolate(value)]));
      const config = loadConfig(env);
      expect(config.HUB_HOST).toBe('0.0.0.0');
      // Behind nginx: client addresses from X-Forwarded-For (nginx replaces it).
      expect(config.HUB_TRUST_PROXY).toBe(true);
      expect(config.HUB_PORT).toBe(4000);
      expect(config.REDIS_URL).toBe('redis://redis:6379');
    });

    it('leaves HUB_SESSION_MAX_TTL to the hub: a .env that raises only HUB_SESSION_TTL (90 days) still starts, its maximum raised with it', () => {
      // The hub's default for the maximum is 30 days or HUB_SESSION_TTL when longer; a fixed
      // 2592000 written by compose was "less than HUB_SESSION_TTL" and refused the start of a
      // deployment that set long sign-ins before HUB_SESSION_MAX_TTL existed.
      const raw = environmentOf(production.services['hub-1']!);
      const env = Object.fromEntries(Object.entries(raw).map(([name, value]) => [name, interpolate(value, { HUB_SESSION_TTL: '7776000' })]));
      expect(loadConfig(env).HUB_SESSION_MAX_TTL).toBe(7_776_000);
      expect(loadConfig(Object.fromEntries(Object.entries(raw).map(([name, value]) => [name, interpolate(value)]))).HUB_SESSION_MAX_TTL).toBe(30 * 86_400);
    });

    it('leaves HUB_SUBSITE_JWKS_REFETCH_MS to the hub: a .env that kept only HUB_KEY_ACTIVATION_DELAY_MS=60000 (the former default) still starts, with the warning', () => {
      // The hub takes that delay with a warning while the refetch allowance is unset (config.ts);
      // a fixed 60000 written by compose made it "set", and the upgraded hub refused to start.
      const raw = environmentOf(production.services['hub-1']!);
      const env = Object.fromEntries(Object.entries(raw).map(([name, value]) => [name, interpolate(value, { HUB_KEY_ACTIVATION_DELAY_MS: '60000' })]));
      const config = loadConfig(env);
      expect(config.HUB_KEY_ACTIVATION_DELAY_MS).toBe(60_000);
      expect(checkServerStart(config, env, env).join('\n')).toMatch(/HUB_KEY_ACTIVATION_DELAY_MS \(60000 ms\) leaves no room for relying parties/);
      const defaults = loadConfig(Object.fromEntries(Object.entries(raw).map(([name, value]) => [name, interpolate(value)])));
      expect({ delay: defaults.HUB_KEY_ACTIVATION_DELAY_MS, refetch: defaults.HUB_SUBSITE_JWKS_REFETCH_MS }).toEqual({ delay: 90_000, refetch: 60_000 });
    });

    it('gives the hub a configuration that loadConfig accepts, with the values of .env.example', () => {
      const example = Object.fromEntries([...envExampleText.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
      for (const hub of HUBS) {
        const raw = environmentOf(services[hub]!);
        const env = Object.fromEntries(Object.entries(raw).map(([name, value]) => [name, interpolate(value, example)]));
        expect(() => loadConfig(env)).not.toThrow();
      }
    });

    // Written before the demo sites' entry files existed: fails until demo-sites/src reads them.
    it.each(DEMO_SITES)('sets on %s only variables that demo-sites/src reads', (site) => {
      const source = sourceFiles(join(ROOT, 'demo-sites', 'src')).map((file) => readFileSync(file, 'utf8')).join('\n');
      expect(source.length).toBeGreaterThan(0);
      const unread = Object.keys(environmentOf(services[site]!)).filter((name) => !new RegExp(`\\b${name}\\b`).test(source));
      expect(unread).toEqual([]);
    });

    it('reaches Redis and the hub (through nginx) by service name from inside the network', () => {
      // The forum stand-in keeps its sessions in its own process (deleteuser ends them there).
      for (const name of APP_SERVICES.filter((service) => service !== 'forum')) expect(interpolate(environmentOf(services[name]!).REDIS_URL ?? '')).toBe('redis://redis:6379');
      for (const site of DEMO_SITES) {
        const env = environmentOf(services[site]!);
        expect(interpolate(env.HUB_INTERNAL_URL ?? '')).toBe(`http://lb:${EXPECTED_PORTS.lb}`);
        expect(interpolate(env.HUB_URL ?? '')).toBe(interpolate(environmentOf(services['hub-1']!).HUB_ISSUER ?? ''));
        expect(interpolate(env.DEMO_HOST ?? '')).toBe('0.0.0.0');
      }
    });
  });

  describe('redis', () => {
    const redis = services.redis!;

    it('persists with AOF on a named volume', () => {
      expect(commandOf(redis).join(' ')).toContain('--appendonly yes');
      // A full Redis refuses writes instead of evicting users and clients (README, "What Redis holds").
      expect(commandOf(redis).join(' ')).toContain('--maxmemory-policy noeviction');
      const mounts = (redis.volumes ?? []).map((volume) => (typeof volume === 'string' ? volume : `:${volume.target}`));
      const data = mounts.find((mount) => mount.endsWith(':/data'));
      expect(data).toBeDefined();
      expect(Object.keys(compose.volumes ?? {})).toContain(data!.split(':')[0]);
    });

    it('has a healthcheck with redis-cli ping', () => {
      const test = redis.healthcheck?.test;
      const line = Array.isArray(test) ? test.join(' ') : test ?? '';
      expect(line).toMatch(/redis-cli( .*)? ping/);
    });

    it('is not published on the host', () => {
      expect(redis.ports ?? []).toEqual([]);
    });
  });

  describe('app services', () => {
    it.each(APP_SERVICES)('%s waits for a healthy redis', (name) => {
      const dependsOn = services[name]!.depends_on;
      expect(dependsOn).toBeDefined();
      expect(Array.isArray(dependsOn)).toBe(false);
      expect((dependsOn as Record<string, { condition?: string }>).redis?.condition).toBe('service_healthy');
    });

    it.each(['lb', ...DEMO_SITES])('%s publishes its documented port, the same on host and container', (name) => {
      expect(publishedPorts(services[name]!)).toEqual([{ host: EXPECTED_PORTS[name], container: EXPECTED_PORTS[name] }]);
    });

    // The sites built on the kit (the UCenter forum stand-in is not).
    it.each(['bbs', 'wiki', 'shop'])('%s has a readiness healthcheck on the kit\'s /readyz, on its own port', (site) => {
      const test = services[site]!.healthcheck?.test;
      const line = Array.isArray(test) ? test.join(' ') : test ?? '';
      expect(line).toContain(`process.env.${site.toUpperCase()}_PORT + '/readyz'`);
      expect(Object.keys(environmentOf(services[site]!))).toContain(`${site.toUpperCase()}_PORT`);
    });

    it.each(HUBS)('%s is not published: only nginx (lb) and the compose network reach it', (hub) => {
      expect(services[hub]!.ports ?? []).toEqual([]);
    });

    it('run from one image built from the Dockerfile', () => {
      const images = new Set(APP_SERVICES.map((name) => services[name]!.image));
      expect(images.size).toBe(1);
      for (const name of APP_SERVICES) expect(services[name]!.build).toBe('.');
      expect(existsSync(join(ROOT, 'Dockerfile'))).toBe(true);
    });
  });
});

describe('the fleet: two hub replicas behind nginx (docker-compose.yml)', () => {
  const lb = production.services.lb!;
  const template = readFileSync(join(ROOT, 'deploy/nginx/hub.conf.template'), 'utf8');
  /** The template without its comments: the directives nginx reads. */
  const directives = template.split('\n').map((line) => line.replace(/#.*$/, '').trim()).filter(Boolean).join('\n');
  const healthcheckLine = (service: Service) => {
    const test = service.healthcheck?.test;
    return Array.isArray(test) ? test.join(' ') : test ?? '';
  };

  it('the replicas are one definition: same image, command, settings and healthcheck', () => {
    const [first, second] = HUBS.map((hub) => production.services[hub]!);
    expect(second).toEqual(first);
    expect(first!.image).toBe('sso-hub:latest');
  });

  it.each(HUBS)('%s has a readiness healthcheck on /readyz and restarts unless stopped', (hub) => {
    expect(healthcheckLine(production.services[hub]!)).toMatch(/127\.0\.0\.1:.*\/readyz/);
    expect(production.services[hub]!.restart).toBe('unless-stopped');
  });

  it('nginx (lb) runs the nginx image, starts once both replicas are healthy and checks /healthz through itself', () => {
    expect(lb.image).toMatch(/^(nginx:(stable|[\d.]+)|debian:[\w.-]+)/);
    const dependsOn = lb.depends_on as Record<string, { condition?: string }>;
    expect(Object.keys(dependsOn).sort()).toEqual([...HUBS]);
    for (const hub of HUBS) expect(dependsOn[hub]!.condition).toBe('service_healthy');
    expect(healthcheckLine(lb)).toMatch(/\/dev\/tcp\/127\.0\.0\.1\/.*GET \/healthz HTTP/);
    expect(lb.restart).toBe('unless-stopped');
  });

  it('mounts the repository\'s nginx template where the image fills it in, with every variable it needs set', () => {
    const mounts = (lb.volumes ?? []).map((volume) => (typeof volume === 'string' ? volume : ''));
    const mount = mounts.find((entry) => entry.startsWith('./deploy/nginx/hub.conf.template:'));
    expect(mount).toMatch(/^\.\/deploy\/nginx\/hub\.conf\.template:\/etc\/nginx\/templates\/[\w.-]+\.conf\.template(:ro)?$/);
    // The image substitutes only variables set in its environment (nginx's own $vars stay).
    const needed = [...directives.matchAll(/\$\{([A-Z_][A-Z0-9_]*)\}/g)].map((match) => match[1]!);
    expect(needed.length).toBeGreaterThan(0);
    expect([...new Set(needed)].filter((name) => !(name in environmentOf(lb)))).toEqual([]);
  });

  it('the upstream lists exactly the replicas on the hub port, round robin with no sticky sessions', () => {
    const upstream = /^upstream\s+(\w+)\s*\{\n([\s\S]*?)\n\}$/m.exec(directives);
    expect(upstream).not.toBeNull();
    const servers = [...upstream![2]!.matchAll(/^server\s+([^\s;]+)/gm)].map((match) => match[1]);
    expect(servers).toEqual(HUBS.map((hub) => `${hub}:\${HUB_PORT}`));
    // ip_hash, hash, sticky (and least_conn's cousins that pin) would tie a browser to one replica.
    expect(directives).not.toMatch(/\b(ip_hash|hash|sticky|keepalive)\b/);
    expect(directives).toContain(`proxy_pass http://${upstream![1]};`);
  });

  it('sends a refused connection on to the other replica, sets the forwarded headers, hides /metrics', () => {
    expect(directives).toMatch(/proxy_next_upstream\s+[^;]*\berror\b/);
    expect(directives).toMatch(/listen \$\{HUB_PORT\};/);
    // Replaced, not appended ($proxy_add_x_forwarded_for): the hub trusts the left-most entry.
    expect(directives).toMatch(/proxy_set_header X-Forwarded-For \$remote_addr;/);
    expect(directives).not.toContain('$proxy_add_x_forwarded_for');
    expect(directives).toMatch(/proxy_set_header X-Forwarded-Proto \$scheme;/);
    expect(directives).toMatch(/location = \/metrics \{\s*return 404;\s*\}/);
  });

  it('publishes nginx on the issuer\'s port, and the replicas trust the proxy by default', () => {
    const issuerPort = Number(new URL(interpolate(environmentOf(production.services['hub-1']!).HUB_ISSUER ?? '')).port);
    expect(publishedPorts(lb)).toEqual([{ host: issuerPort, container: issuerPort }]);
    for (const hub of HUBS) expect(interpolate(environmentOf(production.services[hub]!).HUB_TRUST_PROXY ?? '')).toBe('true');
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

  it('builds on node:22-bookworm-slim (Node 22 LTS) with npm ci and runs as a non-root user', () => {
    expect(dockerfile).toMatch(/^FROM node:22-bookworm-slim\b/m);
    expect(dockerfile).toMatch(/^RUN npm install\b/m);
    const users = [...dockerfile.matchAll(/^USER (\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBeDefined();
    expect(['root', '0']).not.toContain(users.at(-1));
  });

  it('copies every workspace manifest before npm ci', () => {
    const workspaces = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
    const beforeInstall = dockerfile.slice(0, dockerfile.search(/^RUN npm install/m));
    for (const workspace of workspaces) expect(beforeInstall).toContain(`${workspace}/package.json`);
  });

  it('keeps node_modules, .git and .env out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split(/\r?\n/).map((line) => line.trim());
    for (const entry of ['node_modules', '.git', '.env']) expect(ignored).toContain(entry);
  });
});

describe('the compose seed file', () => {
  // .env.example said "empty: 1 with Sentinel, else 0" while the hub waits for one replica on a
  // cluster too (loadConfig's redisWaitReplicas, the README's table): an operator review.
  test('.env.example states REDIS_WAIT_REPLICAS\'s default as the hub applies it (1 with Sentinel or a cluster)', () => {
    expect(documentedVariables().get('REDIS_WAIT_REPLICAS')).toContain('1 with Sentinel or a cluster, else 0');
    expect(loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000' }).redisWaitReplicas).toBe(1);
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).redisWaitReplicas).toBe(0);
  });

  // The demo sites take their ports, client secrets, sync keys and UC_KEY from .env, while the demo
  // hubs register them from this fixed file: one changed in .env alone broke every sign-in at that
  // site (invalid_redirect_uri, invalid_client) and nothing said that the file must change too (an
  // operator review). Both places an operator sets them say so.
  test('.env.example and the README say that the demo ports, secrets and keys are also in the seed file', () => {
    const demoSection = envExampleText.slice(envExampleText.indexOf('# --- Demo sites'));
    expect(demoSection.slice(0, demoSection.indexOf('BBS_PORT='))).toContain('demo-sites/compose-seed.yaml');
    const readmeSection = readmeText.slice(readmeText.indexOf('### Compose and demo settings'), readmeText.indexOf('### Admin CLI'));
    for (const name of ['demo-sites/compose-seed.yaml', '`FORUM_UC_KEY`', '`*_CLIENT_SECRET`', '`*_SYNC_KEY`', 'invalid_redirect_uri']) expect(readmeSection).toContain(name);
  });
  test('registers the demo clients exactly as the demo code would, with service-name URLs for server-to-server calls', async () => {
    const { parse } = await import('yaml');
    const { readFileSync } = await import('node:fs');
    const { loadDemoConfig } = await import('../demo-sites/src/demo-config.js');
    const { demoSeed } = await import('../demo-sites/src/demo-seed.js');
    const file = parse(readFileSync(new URL('../demo-sites/compose-seed.yaml', import.meta.url), 'utf8'));
    const expected = demoSeed(loadDemoConfig({ BBS_INTERNAL_URL: 'http://bbs:4001', WIKI_INTERNAL_URL: 'http://wiki:4002', SHOP_INTERNAL_URL: 'http://shop:4003', FORUM_INTERNAL_URL: 'http://forum:4004' }));
    expect(file).toEqual(JSON.parse(JSON.stringify(expected)));
    const ports: Record<string, number> = { bbs: 4001, wiki: 4002, shop: 4003 };
    for (const client of file.clients) expect(client.userdeleteUrl).toBe(`http://${client.clientId}:${ports[client.clientId]}/sso/userdelete`);
    // The hub sends the forum's notes to its service name; browsers load its synlogin scripts from forum.sso.localhost.
    expect(file.ucenterApps).toEqual([expect.objectContaining({ appId: 1, url: 'http://forum.sso.localhost:4004', internalUrl: 'http://forum:4004' })]);
  });
});
