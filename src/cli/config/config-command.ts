import type { Command } from 'commander';
import { z } from 'zod';
import { AuditReplayError, EXIT } from '../../core/errors.js';
import type { Runner } from '../main.js';
import { parseWithoutRunning } from './apply-config.js';
import { configSchema } from './config-file.js';
import { configurableCommands } from './config-keys.js';
import { effectiveValues, formatEffectiveConfig, type EffectiveValue } from './print-config.js';

const EXAMPLES = `
Examples:
  # what a nightly sync would run with, from the file and the environment
  $ auditreplay config print sync --config auditreplay.yaml

  # with a flag on top, as it would be typed
  $ AUDITREPLAY_CONCURRENCY=16 auditreplay config print replay --config auditreplay.yaml --speed max

  # every command's effective settings
  $ auditreplay config print --config auditreplay.yaml

  # the JSON Schema of the file, for editors
  $ auditreplay config schema > auditreplay.schema.json
`;

/** Registers `auditreplay config print|schema`. */
export function registerConfig(program: Command, run: Runner, env: NodeJS.ProcessEnv, fresh: () => Command): void {
  const config = program.command('config').description('Show the effective configuration, or the schema of config files.').addHelpText('after', EXAMPLES);
  config
    .command('print')
    .description('Print the effective settings of a command (all commands by default) as a config file, saying where each came from; secrets redacted.')
    .argument('[command]', 'extract, sync, verify, replay or compare')
    .argument('[flags...]', 'flags as they would be given to the command')
    .option('--config <file>', 'the config file (default: AUDITREPLAY_CONFIG)')
    .passThroughOptions()
    .action((name: string | undefined, flags: string[], options: { config?: string }) =>
      run(async () => {
        process.stdout.write(await printConfig(fresh, name, flags, options.config, env));
        return EXIT.ok;
      }),
    );
  config
    .command('schema')
    .description('Print the JSON Schema of config files.')
    .action(() =>
      run(async () => {
        process.stdout.write(JSON.stringify(z.toJSONSchema(configSchema(program), { io: 'input' }), null, 2) + '\n');
        return EXIT.ok;
      }),
    );
}

/**
 * The effective config of one command or of all, parsed as the command itself would be
 * by a `fresh()` program whose actions do nothing, without running it.
 */
export async function printConfig(fresh: () => Command, name: string | undefined, flags: string[], file: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  const names = configurableCommands(fresh()).map((c) => c.name());
  if (name !== undefined && !names.includes(name)) throw new AuditReplayError('usage', `config print: unknown command '${name}'; one of ${names.join(', ')}`);
  const sections: { command: string; values: EffectiveValue[] }[] = [];
  let path: string | null = null;
  for (const command of name === undefined ? names : [name]) {
    const resolved = await resolveEffective(fresh(), [command, ...flags, ...(file ? ['--config', file] : [])], env);
    sections.push({ command, values: resolved.values });
    path = resolved.file;
  }
  return formatEffectiveConfig(sections, path);
}

/** Parses a command line into its effective values, with required flags allowed to be missing. */
async function resolveEffective(program: Command, argv: string[], env: NodeJS.ProcessEnv): Promise<{ values: EffectiveValue[]; file: string | null }> {
  // Required flags are only reported here: the point is to see what is missing.
  const required = new Set<string>();
  for (const command of program.commands) {
    for (const option of command.options) {
      if (option.mandatory) required.add(option.attributeName());
      option.makeOptionMandatory(false);
    }
  }
  const applied = await parseWithoutRunning(program, argv, env).catch((err: unknown) => {
    throw err instanceof AuditReplayError ? new AuditReplayError('usage', `config print: ${err.message}`, { cause: err }) : err;
  });
  return { values: effectiveValues(applied!.command, required), file: applied!.file?.path ?? null };
}
