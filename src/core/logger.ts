import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { PrettyOptions } from 'pino-pretty';
import { AuditReplayError } from './errors.js';

export type { Logger } from 'pino';

export const LOG_FORMATS = ['json', 'text', 'auto'] as const;
/** `json`: one JSON object per line; `text`: pino-pretty lines for people; `auto`: text on a terminal, else json. */
export type LogFormat = (typeof LOG_FORMATS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The part of the pipeline a line comes from; every line carries it as `stage`. */
export type LogStage = 'cli' | 'ingest' | 'extract' | 'sync' | 'verify' | 'replay' | 'sinks' | 'compare';

export interface LoggingOptions {
  /** Default `json`. */
  format?: LogFormat;
  /** Default `info`. */
  level?: LogLevel;
  /** The run every line belongs to (null before a command has one). */
  runId?: string | null;
  /** The running command's stage: what `logger()` without a stage logs as (default `cli`). */
  command?: LogStage;
  /** Where lines go (default: stderr, fd 2, written synchronously so nothing is lost on exit); tests pass a stream. */
  destination?: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * Fields that may hold a credential, wherever a caller puts them: pino replaces their
 * values before the line is written. URLs in messages and string fields are scrubbed too
 * (see `safeText`), so a password typed into a target URL never reaches a log.
 */
const REDACT_PATHS = [
  'password',
  'passwd',
  'secret',
  'token',
  'authorization',
  'connectionString',
  'accountKey',
  'sasToken',
  'secretAccessKey',
  'sessionToken',
  'credentials',
  'headers.authorization',
  'headers.cookie',
].flatMap((p) => [p, `*.${p}`]);

/** Fields every line carries and the text format shows in its own way. */
const FRAME_KEYS = new Set(['level', 'time', 'pid', 'hostname', 'runId', 'stage', 'msg', 'type']);

const require = createRequire(import.meta.url);

let root: Logger = build({});
let commandStage: LogStage = 'cli';
const stages = new Map<LogStage, Logger>();

/**
 * Sets up the process's logger: format, level and the run id every line carries. Call it
 * once a command knows its run id; loggers taken before it keep the old settings, so take
 * them with `logger(stage)` when logging, not at module load.
 */
export function configureLogging(options: LoggingOptions = {}): void {
  root = build(options);
  commandStage = options.command ?? 'cli';
  stages.clear();
}

/**
 * The logger of one pipeline stage (default: the running command's), whose lines carry
 * `runId` and `stage` (see `configureLogging`).
 */
export function logger(stage: LogStage = commandStage): Logger {
  let child = stages.get(stage);
  if (!child) {
    child = root.child({ stage });
    stages.set(stage, child);
  }
  return child;
}

/** `--log-format` and `--log-level` values, checked; a usage error names the flag. */
export function parseLogFormat(value: string): LogFormat {
  if (!(LOG_FORMATS as readonly string[]).includes(value)) throw new AuditReplayError('usage', `--log-format takes ${LOG_FORMATS.join(', ')}, not '${value}'`);
  return value as LogFormat;
}

export function parseLogLevel(value: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) throw new AuditReplayError('usage', `--log-level takes ${LOG_LEVELS.join(', ')}, not '${value}'`);
  return value as LogLevel;
}

/**
 * Text with credentials removed: the password of `scheme://user:password@host` URLs,
 * SAS signatures (`sig=`), `password=` conninfo fields and Azure account keys. For URLs
 * and messages about to be logged or written into a summary.
 */
export function safeText(text: string): string {
  return text
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@"'<>]*):[^\s"'<>]*@/gi, '$1:***@')
    .replace(/([?&]sig=)[^&\s"'<>]+/gi, '$1[redacted]')
    .replace(/(\bpassword\s*=\s*)[^\s;&"'<>]+/gi, '$1[redacted]')
    .replace(/(AccountKey\s*=)[^;\s"'<>]+/gi, '$1[redacted]')
    .replace(/(SharedAccessSignature\s*=)[^;\s"'<>]+/gi, '$1[redacted]');
}

function build(options: LoggingOptions): Logger {
  const destination = options.destination;
  const isTty = destination ? destination.isTTY === true : process.stderr.isTTY === true;
  const format = options.format ?? 'json';
  const text = format === 'text' || (format === 'auto' && isTty);
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    // Log collectors add the pod and host; the run id is what ties lines of one run together.
    base: { runId: options.runId ?? null },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => scrub(object, 2) as Record<string, unknown>,
    },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    hooks: {
      logMethod(args, method) {
        for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') args[i] = safeText(args[i] as string);
        return method.apply(this, args);
      },
    },
  };
  const stream = (text ? prettyStream(destination, isTty) : null) ?? jsonStream(destination);
  return pino(config, stream);
}

function jsonStream(destination: LoggingOptions['destination']): DestinationStream {
  if (destination) return destination as DestinationStream;
  return pino.destination({ fd: 2, sync: true });
}

/**
 * pino-pretty as a synchronous stream: one line per record, `stage  message  key=value`.
 * It is a development dependency: where it is missing (a production install) the text
 * format falls back to JSON lines rather than failing the run.
 */
function prettyStream(destination: LoggingOptions['destination'], colorize: boolean): DestinationStream | null {
  let build: (options: PrettyOptions) => DestinationStream;
  try {
    build = require('pino-pretty') as (options: PrettyOptions) => DestinationStream;
  } catch {
    return null;
  }
  return build({
    sync: true,
    destination: destination ?? 2,
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    hideObject: true,
    messageFormat: (log, messageKey) => {
      const msg = String(log[messageKey] ?? '');
      // A summary's message is its human sentence already; its fields are in the JSON form.
      const fields = log.type === 'summary' ? '' : keyValues(log);
      return `${String(log.stage ?? '-')}  ${msg}${fields ? `  ${fields}` : ''}`;
    },
  });
}

function keyValues(log: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(log)) {
    if (FRAME_KEYS.has(k) || v === undefined) continue;
    if (v !== null && typeof v === 'object') {
      const json = JSON.stringify(v);
      parts.push(`${k}=${json.length > 120 ? `${json.slice(0, 119)}…` : json}`);
    } else parts.push(`${k}=${String(v)}`);
  }
  return parts.join(' ');
}

/** String values (to `depth` levels of plain objects) with credentials removed; errors are left to pino's serializer. */
function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return safeText(value);
  if (depth === 0 || value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Error) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrub(v, depth - 1);
  return out;
}
