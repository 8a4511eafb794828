import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
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

/** The first cells of the rows of the README table under a heading. */
function tableNames(heading: string): string[] {
  const section = readme.split(/\n## /).find((part) => part.startsWith(heading));
  if (!section) throw new Error(`README has no "## ${heading}" section`);
  return [...section.matchAll(/^\| `([A-Za-z]+)[`(]/gm)].map((match) => match[1]!);
}

describe('subsite-kit/README.md', () => {
  it('starts with installing the package', () => {
    expect(readme.split(/\n## /)[1]).toMatch(/^Install\n[\s\S]*npm install @sso-hub\/subsite-kit/);
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
