/**
 * Every flag a person is told about exists: the usage lines, messages and hints of the CLI and
 * the engine (found as prose string literals naming `--flag`) against the CLI's own option tables.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../electron/cli';
import { COMMON_OPTIONS, type Command } from '../../../electron/cli/command';
import { readHostNeeds } from '../../helpers/needs';

const root = join(__dirname, '..', '..', '..');
const tools = new Set(readHostNeeds().keys());
/** Flags of other programs that the engine writes into files it generates (not hints to a person). */
const OTHER_PROGRAMS: Record<string, string[]> = { 'electron/engine/customise/firstboot/cloud-init.ts': ['--now'] };

const flagsOf = (command: Command): Set<string> => new Set(Object.keys({ ...COMMON_OPTIONS, ...command.options }).map((name) => `--${name}`));
/** How a usage line may name an option: `--name`, or `-x` for one with a short form. */
const spellings = (command: Command, name: string): string[] => {
  const short = command.options[name]?.short;
  return [`--${name}`, ...(short ? [`-${short}`] : [])];
};

/** `--flag`s named in prose string literals of a file; a flag right after a host tool's name is that tool's. */
function namedFlags(path: string): string[] {
  const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      if (/\s/.test(node.text)) {
        for (const match of node.text.matchAll(/(?:(\S+) )?(?<![\w-])(--[a-z][a-z0-9-]*)/g)) if (!tools.has(match[1] ?? '')) found.push(match[2]!);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

const sourcesUnder = (dir: string): string[] =>
  readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(root, dir, name));

describe('flags named to a person', () => {
  it('each command lists every option it takes in its usage, and takes every flag its usage names', () => {
    const problems: string[] = [];
    for (const command of COMMANDS) {
      const named = new Set(command.usage.match(/(?<![\w-])--?[a-z][a-z0-9-]*/g) ?? []);
      for (const name of Object.keys(command.options)) if (!spellings(command, name).some((spelling) => named.has(spelling))) problems.push(`${command.name} takes --${name} but its usage does not say so`);
      for (const flag of named) if (flag.startsWith('--') && !flagsOf(command).has(flag)) problems.push(`${command.name}'s usage names ${flag}, which it does not take`);
    }
    expect(problems).toEqual([]);
  });

  it('messages and hints in a CLI file name flags its commands take', async () => {
    const problems: string[] = [];
    for (const path of [join(root, 'electron/cli.ts'), ...sourcesUnder('electron/cli')]) {
      const module = (await import(path)) as Record<string, unknown>;
      const own = COMMANDS.filter((command) => Object.values(module).includes(command));
      const allowed = own.length > 0 ? own : COMMANDS;
      for (const flag of namedFlags(path)) if (!allowed.some((command) => flagsOf(command).has(flag))) problems.push(`${relative(root, path)}: ${flag} (${allowed.map((command) => command.name).join(', ')})`);
    }
    expect(problems).toEqual([]);
  });

  it('messages and hints of the engine name flags some command takes', () => {
    const problems: string[] = [];
    for (const path of sourcesUnder('electron/engine')) {
      for (const flag of namedFlags(path)) {
        if (COMMANDS.some((command) => flagsOf(command).has(flag))) continue;
        if (OTHER_PROGRAMS[relative(root, path)]?.includes(flag)) continue;
        problems.push(`${relative(root, path)}: ${flag}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
