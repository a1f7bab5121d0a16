import { CommanderError, type Command } from 'commander';
import { AuditReplayError } from '../../core/errors.js';
import { replaceable } from '../flag-values.js';
import { closest, loadConfigFile, type ConfigFile, type ConfigValue } from './config-file.js';
import { configKeys, configurableCommands, ENV_NOT_KEYS, ENV_PREFIX, envName, type ConfigKey } from './config-keys.js';

/** Where an effective value came from, highest precedence first. */
export type ValueSource = 'cli' | 'env' | 'config' | 'default';

/** What was applied to a command before its flags are parsed. */
export interface AppliedConfig {
  command: Command;
  file: ConfigFile | null;
}

/**
 * Gives the command named in `argv` its values from `AUDITREPLAY_*` variables and the
 * config file (`--config FILE` in argv, else `AUDITREPLAY_CONFIG`), before commander
 * parses the flags: flags then win over env, env over the file, the file over defaults,
 * and a required flag may come from either. Returns null when argv names no command.
 */
export function applyConfig(program: Command, argv: readonly string[], env: NodeJS.ProcessEnv): AppliedConfig | null {
  const commands = configurableCommands(program);
  const name = argv.find((a) => !a.startsWith('-'));
  const command = commands.find((c) => c.name() === name);
  if (!command) return null;
  checkEnvNames(commands, env);
  const path = configPath(argv, env);
  const file = path ? loadConfigFile(path, program) : null;
  for (const k of configKeys(command)) {
    const fromEnv = env[k.env];
    if (fromEnv !== undefined && fromEnv !== '') command.setOptionValueWithSource(k.attribute, envValue(k, fromEnv), 'env');
    else {
      const fromFile = file?.sections[command.name()]?.[k.key] ?? file?.shared[k.key];
      if (fromFile !== undefined) command.setOptionValueWithSource(k.attribute, fileValue(k, fromFile, file!.path), 'config');
    }
  }
  return { command, file };
}

/**
 * Parses `argv` with a program whose actions do nothing, the config file and `env`
 * applied, commander's own messages kept off the terminal: a bad command line becomes a
 * `usage` error saying what is wrong (its first line). Null when argv names no command.
 */
export async function parseWithoutRunning(program: Command, argv: string[], env: NodeJS.ProcessEnv): Promise<AppliedConfig | null> {
  let errors = '';
  for (const c of [program, ...program.commands]) c.configureOutput({ writeErr: (s) => void (errors += s), writeOut: () => {} });
  const applied = applyConfig(program, argv, env);
  if (!applied) return null;
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) throw new AuditReplayError('usage', errors.trim().split('\n')[0] || err.message, { cause: err });
    throw err;
  }
  return applied;
}

/** `--config FILE` or `--config=FILE` anywhere in argv, else `AUDITREPLAY_CONFIG`. */
function configPath(argv: readonly string[], env: NodeJS.ProcessEnv): string | null {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--config') {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('-')) throw new AuditReplayError('usage', '--config takes a file');
      return next;
    }
    if (a.startsWith('--config=')) return a.slice('--config='.length);
  }
  return env[`${ENV_PREFIX}CONFIG`] || null;
}

/** A typo in an env var name would silently do nothing: refuse names that are no flag. */
function checkEnvNames(commands: Command[], env: NodeJS.ProcessEnv): void {
  const known = new Set(commands.flatMap((c) => configKeys(c).map((k) => k.env)));
  for (const name of Object.keys(env)) {
    if (!name.startsWith(ENV_PREFIX) || known.has(name) || ENV_NOT_KEYS.has(name)) continue;
    const hint = closest(name, [...known, ...ENV_NOT_KEYS]);
    throw new AuditReplayError('usage', `unknown environment variable ${name}${hint ? ` (did you mean ${hint}?)` : ''}: AUDITREPLAY_* variables set flags, e.g. ${envName('target')} for --target`);
  }
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** An env var's text as the flag's value: booleans spelled out, lists comma-separated or as a JSON array. */
function envValue(k: ConfigKey, text: string): string | boolean | string[] {
  if (k.kind === 'boolean') {
    const t = text.trim().toLowerCase();
    if (TRUE.has(t) || FALSE.has(t)) return TRUE.has(t);
    throw new AuditReplayError('usage', `${k.env} takes true or false (for ${k.flag}), not '${text}'`);
  }
  if (k.kind === 'value') return text;
  let items: unknown;
  if (text.trim().startsWith('[')) {
    try {
      items = JSON.parse(text);
    } catch {
      items = null;
    }
    if (!Array.isArray(items)) throw new AuditReplayError('usage', `${k.env}: '${text}' is not a JSON array of strings`);
  } else items = text.split(',');
  return replaceable((items as unknown[]).map((x) => String(x).trim()).filter(Boolean));
}

/** A file value (validated by the schema) as the flag's value. */
function fileValue(k: ConfigKey, value: ConfigValue, path: string): string | boolean | string[] {
  if (k.kind === 'boolean' && typeof value !== 'boolean') throw new AuditReplayError('usage', `${path}: ${k.key} takes true or false`);
  if (k.kind !== 'boolean' && typeof value === 'boolean') throw new AuditReplayError('usage', `${path}: ${k.key} takes a value, not ${value}`);
  // The negated flag (--no-tag) stores the feature's state: `tag: false` is --no-tag.
  return Array.isArray(value) ? replaceable([...value]) : value;
}
