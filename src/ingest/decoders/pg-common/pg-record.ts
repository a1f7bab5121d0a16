/**
 * One PostgreSQL log record, as every log destination (jsonlog, csvlog, stderr) carries
 * it. A parser keeps one and refills it for each record; the assembler copies what it
 * keeps, so nothing holds on to it.
 */
export interface PgRecord {
  /** 1-based line of the record's first line in the object. */
  line: number;
  /** The record's first line, for rejects. */
  raw: string;
  /** Epoch ms. */
  ts: number;
  user: string | null;
  database: string | null;
  /** The backend's pid; parsers may leave it null when sessionId is set, as it only keys sessions without one. */
  pid: string | null;
  /** `%c`: session start time and pid in hex, e.g. `6736a1b2.1092`. */
  sessionId: string | null;
  /** `%l`: the record's number within its session. */
  lineNum: string | null;
  /** `LOG`, `ERROR`, ... as the server wrote it (English). */
  severity: string;
  sqlState: string | null;
  message: string;
  detail: string | null;
  /** The statement an ERROR is about (`STATEMENT:` in stderr, `query` in csvlog). */
  statement: string | null;
  applicationName: string | null;
  /** The client's host; parsers may leave it null when applicationName is set, since only one becomes the event's client. */
  remoteHost: string | null;
  /**
   * Fills user, database, lineNum, sqlState, detail, statement, applicationName and
   * remoteHost when the parser left them to be read on demand: most records (a bare
   * duration, a connection message) never need them. The assembler calls it before it
   * reads any of them; a parser that fills every field leaves it a no-op.
   */
  load: () => void;
}

const nothing = (): void => {};

/** A record to refill. */
export function newPgRecord(): PgRecord {
  return {
    line: 0,
    raw: '',
    ts: 0,
    user: null,
    database: null,
    pid: null,
    sessionId: null,
    lineNum: null,
    severity: '',
    sqlState: null,
    message: '',
    detail: null,
    statement: null,
    applicationName: null,
    remoteHost: null,
    load: nothing,
  };
}

/**
 * True for the severities PostgreSQL writes as a record's own level (English messages;
 * every DEBUGn is written `DEBUG`, csvlog and jsonlog keep `DEBUG1`..`DEBUG5`).
 */
export function isPgSeverity(word: string): boolean {
  switch (word) {
    case 'LOG':
    case 'ERROR':
    case 'WARNING':
    case 'NOTICE':
    case 'INFO':
    case 'FATAL':
    case 'PANIC':
    case 'DEBUG':
    case 'DEBUG1':
    case 'DEBUG2':
    case 'DEBUG3':
    case 'DEBUG4':
    case 'DEBUG5':
      return true;
    default:
      return false;
  }
}
