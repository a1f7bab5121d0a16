import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { distance } from 'fastest-levenshtein';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { AuditReplayError } from '../../core/errors.js';
import { configKeys, configurableCommands, type ConfigKey, type KeyKind } from './config-keys.js';

/** A config file's content: shared keys at the top, and one section per command. */
export type ConfigValue = string | boolean | string[];
export interface ConfigFile {
  /** Where it was read from, for messages. */
  path: string;
  /** Keys at the top level: they apply to every command that has the flag. */
  shared: Record<string, ConfigValue>;
  /** `sync:`, `replay:`, ...: keys for that command only; they win over shared ones. */
  sections: Record<string, Record<string, ConfigValue>>;
}

const scalar = z.union([z.string(), z.number()]).transform(String);
const VALUE_SCHEMAS: Record<KeyKind, z.ZodType<ConfigValue>> = {
  boolean: z.boolean(),
  value: scalar,
  // One value is a list of one, so `include: 'sales.*'` reads as it looks.
  list: z.union([z.array(scalar), scalar.transform((v) => [v])]),
};

/**
 * The schema of a config file, made from the commands' own flags so that every flag has
 * a key and no key exists without a flag. Unknown keys are errors, at any level.
 */
export function configSchema(program: Command) {
  const sections: Record<string, z.ZodType> = {};
  const shared = new Map<string, Set<KeyKind>>();
  for (const command of configurableCommands(program)) {
    const shape: Record<string, z.ZodType> = {};
    for (const k of configKeys(command)) {
      shape[k.key] = VALUE_SCHEMAS[k.kind].optional().describe(describeKey(command, k));
      shared.set(k.key, (shared.get(k.key) ?? new Set()).add(k.kind));
    }
    sections[command.name()] = z.strictObject(shape).optional().describe(`flags of \`auditreplay ${command.name()}\` only; they win over the keys at the top`);
  }
  const top: Record<string, z.ZodType> = {};
  for (const [key, kinds] of shared) {
    const schemas = [...kinds].map((k) => VALUE_SCHEMAS[k]);
    top[key] = (schemas.length === 1 ? schemas[0]! : z.union(schemas as [z.ZodType, z.ZodType])).optional().describe(`--${key}, for every command that has it`);
  }
  return z.strictObject({ ...top, ...sections });
}

function describeKey(command: Command, k: ConfigKey): string {
  const option = command.options.find((o) => o.long === k.flag);
  return `${k.flag}: ${option?.description ?? ''} (env ${k.env})`;
}

/** Reads and validates a YAML or JSON config file; errors name the file, line and key. */
export function loadConfigFile(path: string, program: Command): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AuditReplayError('usage', `cannot read the config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  // YAML 1.2 is a superset of JSON, so one parser reads both and gives lines for both.
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) throw new AuditReplayError('usage', `config file ${path}: ${doc.errors[0]!.message}`);
  const raw: unknown = doc.toJS() ?? {};
  const parsed = configSchema(program).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const lineOf = (path: PropertyKey[]): string => {
      const node = doc.getIn(path as unknown[], true) as { range?: [number, number, number] } | undefined;
      const pair = !node?.range && path.length ? doc.getIn(path.slice(0, -1) as unknown[], true) : null;
      const offset = node?.range?.[0] ?? (isMap(pair) ? pair.range?.[0] : undefined);
      return offset === undefined ? '' : `:${lines.linePos(offset).line}`;
    };
    const where = issue.path.map(String).join('.');
    let message: string;
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0]!;
      const at = [...issue.path, key];
      const known = knownKeys(program, issue.path[0] as string | undefined);
      const hint = closest(key, known);
      message = `${path}${lineOf(at)}: unknown key '${[...issue.path, key].join('.')}'${hint ? ` (did you mean '${hint}'?)` : ''}`;
    } else {
      message = `${path}${lineOf(issue.path)}: ${where || 'the file'}: ${issue.message}`;
    }
    throw new AuditReplayError('usage', message);
  }
  const data = parsed.data as Record<string, ConfigValue | Record<string, ConfigValue> | undefined>;
  const names = new Set(configurableCommands(program).map((c) => c.name()));
  const file: ConfigFile = { path, shared: {}, sections: {} };
  for (const [key, value] of Object.entries(data)) {
    if (value === undefined) continue;
    if (names.has(key)) file.sections[key] = value as Record<string, ConfigValue>;
    else file.shared[key] = value as ConfigValue;
  }
  return file;
}

function knownKeys(program: Command, section: string | undefined): string[] {
  const commands = configurableCommands(program);
  const inSection = commands.find((c) => c.name() === section);
  if (inSection) return configKeys(inSection).map((k) => k.key);
  return [...commands.map((c) => c.name()), ...commands.flatMap((c) => configKeys(c).map((k) => k.key))];
}

/** The known key nearest to a misspelt one (at most 2 edits apart), for the error message. */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestScore = 3;
  for (const c of candidates) {
    // On a tie, a word of the same length wins: 'form' is 'from' swapped, not 'format' cut.
    const score = distance(word.toLowerCase(), c.toLowerCase()) + (c.length === word.length ? 0 : 0.5);
    if (score < bestScore) [best, bestScore] = [c, score];
  }
  return best;
}
