import type { Command } from 'commander';
import { Document, isScalar, type Pair, type Scalar } from 'yaml';
import { safeText } from '../../core/logger.js';
import { redactUrl } from '../../replay/targets/postgres/postgres-url.js';
import { configKeys } from './config-keys.js';

/** One flag's effective value, and where it came from. */
export interface EffectiveValue {
  key: string;
  value: unknown;
  source: 'cli' | 'env' | 'config' | 'default' | 'unset';
  /** The env var that sets it, for the comment. */
  env: string;
  required: boolean;
}

const SOURCES = new Set(['cli', 'env', 'config', 'default']);

/** The effective value of every flag of a parsed command. */
export function effectiveValues(command: Command, required: ReadonlySet<string>): EffectiveValue[] {
  const values = command.opts();
  return configKeys(command).map((k) => {
    const raw = command.getOptionValueSource(k.attribute);
    const source = (SOURCES.has(raw as string) ? raw : 'unset') as EffectiveValue['source'];
    return {
      key: k.key,
      value: values[k.attribute],
      source,
      env: k.env,
      required: required.has(k.attribute),
    };
  });
}

const SECRET_KEY = /password|secret|token|credential-?value|account-?key/i;

/** A value safe to print: passwords in URLs, SAS signatures, account keys and secret-named keys removed. */
export function redactValue(key: string, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => redactValue(key, v));
  if (typeof value !== 'string') return value;
  if (SECRET_KEY.test(key)) return '[redacted]';
  // A URL loses its password outright (redactUrl); the logs' scrubbing does the rest (password=, SAS, account keys).
  return safeText(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? redactUrl(value) : value);
}

/**
 * The effective configuration of commands as a YAML config file (usable as one), each
 * value commented with where it came from; secrets redacted, unset flags left out.
 */
export function formatEffectiveConfig(sections: { command: string; values: EffectiveValue[] }[], file: string | null): string {
  const doc = new Document({});
  doc.commentBefore =
    ` effective configuration: flags > AUDITREPLAY_* environment > ${file ? `config file ${file}` : 'config file (none given)'} > defaults\n` +
    ' secrets are redacted';
  for (const { command, values } of sections) {
    const set = values.filter((v) => v.source !== 'unset');
    const map = doc.createNode(Object.fromEntries(set.map((v) => [v.key, redactValue(v.key, v.value)])));
    doc.set(command, map);
    for (const pair of map.items as Pair<Scalar, unknown>[]) {
      const v = set.find((x) => x.key === (isScalar(pair.key) ? pair.key.value : pair.key));
      const node = pair.value as { comment?: string } | null;
      if (v && node) node.comment = ` ${v.source === 'env' ? `env ${v.env}` : v.source === 'config' ? 'file' : v.source === 'cli' ? 'flag' : 'default'}`;
    }
    const missing = values.filter((v) => v.required && v.source === 'unset').map((v) => v.key);
    if (missing.length) map.comment = ` required and not set: ${missing.join(', ')}`;
  }
  return doc.toString({ lineWidth: 0 });
}
