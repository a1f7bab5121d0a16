import type { Command, Option } from 'commander';
import { collect } from '../flag-values.js';

/** How a flag's value is written in a config file or an environment variable. */
export type KeyKind = 'boolean' | 'value' | 'list';

/** One flag of one command, seen as a config key. */
export interface ConfigKey {
  /** The key in a config file: the long flag without `--` (`row-group`); `--no-tag` is `tag`. */
  key: string;
  /** The flag as typed (`--row-group`, `--no-tag`). */
  flag: string;
  /** Commander's attribute name, where the parsed value lives (`rowGroup`). */
  attribute: string;
  kind: KeyKind;
  /** `--no-x` flags: `x: false` in a file turns the feature off. */
  negate: boolean;
  /** `AUDITREPLAY_ROW_GROUP`. */
  env: string;
  required: boolean;
}

/** Flags that are not settings: where the config file is. */
const NOT_KEYS = new Set(['config']);

/** The env var prefix; `AUDITREPLAY_CONFIG` names the config file. */
export const ENV_PREFIX = 'AUDITREPLAY_';

/** Env vars that are read but are not flags: the config file, and the shard count of an Indexed Job. */
export const ENV_NOT_KEYS = new Set([`${ENV_PREFIX}CONFIG`, `${ENV_PREFIX}SHARDS`, `${ENV_PREFIX}FAILPOINT`]);

/** The config keys of a command: every long flag but `--config` and `--help`. */
export function configKeys(command: Command): ConfigKey[] {
  const keys: ConfigKey[] = [];
  for (const option of command.options as readonly Option[]) {
    if (!option.long) continue;
    const name = option.long.replace(/^--/, '');
    const key = option.negate ? name.replace(/^no-/, '') : name;
    if (NOT_KEYS.has(key)) continue;
    keys.push({
      key,
      flag: option.long,
      attribute: option.attributeName(),
      kind: option.isBoolean() || option.negate ? 'boolean' : option.variadic || option.parseArg === collect ? 'list' : 'value',
      negate: option.negate,
      env: envName(key),
      required: option.mandatory,
    });
  }
  return keys;
}

/** `row-group` -> `AUDITREPLAY_ROW_GROUP`. */
export function envName(key: string): string {
  return ENV_PREFIX + key.toUpperCase().replace(/-/g, '_');
}

/** The commands whose flags can be configured (all but `config` itself). */
export function configurableCommands(program: Command): Command[] {
  return (program.commands as Command[]).filter((c) => c.name() !== 'config');
}
