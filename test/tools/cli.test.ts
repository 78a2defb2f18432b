/**
 * The `stratadb` program as a whole: every command has --help with an example (checked on the
 * program built in-process, so all of them cost one import), and the executable's version, exit
 * codes and messages for usage mistakes (child processes).
 */
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../tools/program.js';
import { hasStackTrace, runCli } from './cli-helpers.js';

const EXPECTED_COMMANDS = ['backup', 'bench', 'check', 'compact', 'delete', 'destroy', 'get', 'has', 'ingest', 'lsm', 'manifest', 'put', 'repair', 'rotate-key', 'scan', 'sst-dump', 'stats', 'tail', 'wal-dump'];

describe('stratadb', () => {
  it('registers every command, each with a description and an example in its --help', () => {
    const program = buildProgram();
    expect(program.commands.map((c) => c.name()).sort()).toEqual(EXPECTED_COMMANDS);
    for (const cmd of program.commands) {
      let help = '';
      cmd.configureOutput({ writeOut: (s) => { help += s; }, writeErr: (s) => { help += s; } });
      cmd.outputHelp();
      expect(cmd.description(), cmd.name()).not.toBe('');
      expect(help, `${cmd.name()} --help`).toContain(`Usage: stratadb ${cmd.name()}`);
      expect(help, `${cmd.name()} --help has an example`).toMatch(new RegExp(`\\$ stratadb ${cmd.name()} `));
    }
  });

  it('gives every subcommand (backup create, list ...) its own examples in its --help', () => {
    const nested = buildProgram().commands.flatMap((c) => c.commands.map((sub) => [c, sub] as const));
    expect(nested.map(([c, sub]) => `${c.name()} ${sub.name()}`)).toEqual(
      ['backup create', 'backup list', 'backup verify', 'backup restore', 'backup purge']);
    for (const [parent, cmd] of nested) {
      let help = '';
      cmd.configureOutput({ writeOut: (s) => { help += s; }, writeErr: (s) => { help += s; } });
      cmd.outputHelp();
      const name = `${parent.name()} ${cmd.name()}`;
      expect(help, `${name} --help`).toContain('Examples:');
      expect(help, `${name} --help has an example`).toMatch(new RegExp(`\\$ stratadb ${name} `));
    }
  });

  it('prints the version and help with exit 0; usage mistakes exit 2 with a code, never a stack', async () => {
    const [version, help, noCommand, unknown, missingArg, unknownOption] = await Promise.all([
      runCli(['--version']),
      runCli(['sst-dump', '--help']),
      runCli([]),
      runCli(['frobnicate']),
      runCli(['get', '/tmp']),
      runCli(['scan', '/tmp', '--from', 'a']),
    ]);
    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\S*\n$/) });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('$ stratadb sst-dump /data/db/000012.sst --verify');
    expect(noCommand.code).toBe(2);
    expect(noCommand.stderr).toContain('Usage: stratadb');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error ERR_INVALID_ARGUMENT: unknown command 'frobnicate'/);
    expect(missingArg.code).toBe(2);
    expect(missingArg.stderr).toMatch(/^error ERR_INVALID_ARGUMENT: missing required argument 'KEY'/);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toMatch(/^error ERR_INVALID_ARGUMENT: unknown option '--from'/);
    for (const r of [noCommand, unknown, missingArg, unknownOption]) expect(hasStackTrace(r.stderr)).toBe(false);
  });
});
