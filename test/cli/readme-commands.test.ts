/**
 * The README's "Command line" block names every command `shekara --help` lists, so a reader of
 * the README learns that each exists (its --help says the rest).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { shekara } from '../helpers/cli.js';

describe('README › Command line', () => {
  it('names every command of `shekara --help`', async () => {
    // In this process: test/cli/run-cli.test.ts checks the binary prints the same help.
    const { stdout } = await shekara('--help');
    const commands = [
      ...stdout
        .split('\nCommands:\n')[1]!
        .split('\n\n')[0]!
        .matchAll(/^ {2}([a-z][a-z0-9-]*)/gm),
    ]
      .map((m) => m[1]!)
      .filter((c) => c !== 'help');
    expect(commands).toContain('start'); // the help was read
    const readme = readFileSync('README.md', 'utf8');
    const block = /## Command line\n\n```\n([\s\S]*?)```/.exec(readme)![1]!;
    const named = new Set([...block.matchAll(/^shekara ([a-z][a-z0-9-]*)/gm)].map((m) => m[1]!));
    expect(commands.filter((c) => !named.has(c))).toEqual([]);
  });
});
