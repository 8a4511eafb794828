import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { DEMO_USERS } from '../../demo-sites/src/demo-seed.js';
import { ENVIRONMENT_VARIABLES } from './environment.js';

/**
 * The README is the kit's manual for developers outside this repository: every option and
 * everything `createSubsiteKit` returns must be in it. Names are read from the sources, so a
 * new option or member fails here until it is documented. (The packed-tarball test compiles
 * and runs the README's example.)
 */
const source = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8');
const readme = source('../README.md');

/** The property names of an exported interface, read from its source file. */
function membersOf(file: string, name: string): string[] {
  const body = new RegExp(`export interface ${name} \\{\\n([\\s\\S]*?)\\n\\}`).exec(source(file));
  if (!body) throw new Error(`no interface ${name} in ${file}`);
  return [...body[1]!.matchAll(/^ {2}(?:readonly )?([A-Za-z]+)[?(:]/gm)].map((match) => match[1]!);
}

/** The text of the README section under `## heading`. */
function section(heading: string): string {
  const found = readme.split(/\n## /).find((part) => part.startsWith(heading));
  if (!found) throw new Error(`README has no "## ${heading}" section`);
  return found;
}

/** The first cells of the rows of the README table under a heading. */
function tableNames(heading: string): string[] {
  return [...section(heading).matchAll(/^\| `([A-Za-z]+)[`(]/gm)].map((match) => match[1]!);
}

describe('subsite-kit/README.md', () => {
  it('starts with installing the package, from a tarball built with npm pack while it is not on the registry', () => {
    const { name, version } = JSON.parse(source('../package.json')) as { name: string; version: string };
    const install = readme.split(/\n## /)[1]!;
    expect(install).toMatch(/^Install\n/);
    expect(install).toMatch(/not published on the npm registry/);
    expect(install).toContain('npm pack -w subsite-kit');
    // What `npm pack` names the tarball of a scoped package: @scope/name → scope-name-version.tgz.
    const tarball = `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
    expect(install).toContain(`npm install /path/to/sso-hub/${tarball} express redis`);
  });

  it('never calls a method on req.sso without `!`: it is optional on Request and would not compile under strict', () => {
    expect(readme.match(/req\.sso\??\.[A-Za-z]+\(/g) ?? []).toEqual([]);
    expect(readme).toContain('await req.sso!.accessToken()');
    expect(readme).toContain('ssoApi(req)');
  });

  it('registers the site through the admin console with the demo, through the CLI only with the hub\'s Redis', () => {
    const register = section('Register the site at the hub');
    const admin = DEMO_USERS.find((user) => user.roles.includes('admin'))!;
    expect(register).toContain('/admin/clients');
    expect(register).toContain(`\`${admin.username}\` / \`${admin.password}\``);
    expect(register).toMatch(/npm start/);
    expect(register).toMatch(/REDIS_URL[\s\S]*KEY_PREFIX/);
    expect(register).toMatch(/REDIS_URL=\S+ KEY_PREFIX=\S+ npm run hub -- clients add/);
  });

  it('says that a sign-in at the hub reaches a site only once the user consented to it, or for a --trusted client', () => {
    // The hub's sync page loads /sso/synclogin only on trusted sites and those the user consented
    // to (hub/src/sync/sync-page.ts): a new-developer review registered the site as the README
    // says (no --trusted), signed in at the hub and found the site signed out, while step 1 of
    // "How sign-in works" said the hub loads it on every subsite.
    const register = section('Register the site at the hub');
    expect(register).toContain('--trusted');
    expect(register).toMatch(/consent/);
    expect(section('How sign-in works')).not.toMatch(/loads `\/sso\/synclogin` on every subsite\./);
  });

  it('documents every option of SubsiteKitOptions, with its environment variable', () => {
    const options = membersOf('./options.ts', 'SubsiteKitOptions');
    expect(options.length).toBeGreaterThan(15);
    expect(tableNames('Options').sort()).toEqual([...options].sort());
    for (const [option, variable] of Object.entries(ENVIRONMENT_VARIABLES)) {
      expect(readme).toMatch(new RegExp(`\\| \`${option}\` \\| \`${variable}\` \\|`));
    }
  });

  it('documents everything createSubsiteKit returns', () => {
    const members = membersOf('./kit.ts', 'SubsiteKit');
    expect(members).toContain('errorHandler');
    expect(tableNames('What `createSubsiteKit` returns').sort()).toEqual([...members].sort());
  });
});
