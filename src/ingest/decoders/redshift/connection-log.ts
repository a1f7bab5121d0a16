import { isValidDateTime } from '../trino/iso-time.js';

/**
 * Redshift's connectionlog: one pipe-delimited line per authentication, connection and
 * disconnection, with the columns of STL_CONNECTION_LOG in table order (event,
 * recordtime, remotehost, remoteport, pid, dbname, username, authmethod, duration,
 * sslversion, sslcipher, mtu, sslcompression, sslexpansion, iamauthguid,
 * application_name, os_version, driver_version, plugin_name, protocol_version,
 * sessionid, compression, ...). Values are space-padded; older clusters write fewer
 * columns, newer ones more, so only the first nine are required.
 */

const COL_EVENT = 0;
const COL_TIME = 1;
const COL_REMOTE_HOST = 2;
const COL_REMOTE_PORT = 3;
const COL_PID = 4;
const COL_DB = 5;
const COL_USER = 6;
const COL_DURATION = 8;
const COL_APPLICATION = 15;
const COL_DRIVER = 17;
const COL_SESSION_ID = 20;
const MIN_COLUMNS = 9;

/** One line of the connectionlog. */
export interface ConnectionLogRecord {
  event: string;
  /** recordtime, epoch ms (the log is in UTC). */
  at: number;
  pid: number;
  remoteHost: string | null;
  remotePort: string | null;
  database: string | null;
  user: string | null;
  /** How long the connection lasted, in microseconds (on disconnect records). */
  durationUs: number | null;
  applicationName: string | null;
  driverVersion: string | null;
  sessionId: string | null;
}

const EVENT_NAME = /^[A-Za-z][A-Za-z_ ]*$/;

/**
 * Reads one connectionlog line: the record, `'bad-timestamp'` when it has the shape but
 * its recordtime is unreadable, or null when it is not a connectionlog line.
 */
export function parseConnectionLogLine(text: string): ConnectionLogRecord | 'bad-timestamp' | null {
  const f = text.split('|');
  if (f.length < MIN_COLUMNS) return null;
  const event = f[COL_EVENT]!.trim();
  const pidText = f[COL_PID]!.trim();
  if (!EVENT_NAME.test(event) || !isDigits(pidText)) return null;
  const durationText = f[COL_DURATION]!.trim();
  if (durationText !== '' && !isDigits(durationText)) return null;
  const at = parseRecordTime(f[COL_TIME]!.trim());
  if (at === null) return 'bad-timestamp';
  return {
    event,
    at,
    pid: Number(pidText),
    remoteHost: field(f, COL_REMOTE_HOST),
    remotePort: field(f, COL_REMOTE_PORT),
    database: field(f, COL_DB),
    user: field(f, COL_USER),
    durationUs: durationText === '' ? null : Number(durationText),
    applicationName: field(f, COL_APPLICATION),
    driverVersion: field(f, COL_DRIVER),
    sessionId: field(f, COL_SESSION_ID),
  };
}

/** True when a line has the connectionlog's shape, for sniffing (its time need not be readable). */
export function looksLikeConnectionLog(text: string): boolean {
  const r = parseConnectionLogLine(text);
  return r !== null && r !== 'bad-timestamp';
}

/**
 * Redshift's userlog (`userid|username|oldusername|action|usecreatedb|usesuper|usecatupd|
 * valuntil|pid|xid|recordtime`): user definition changes, which carry no statement.
 * Returns whether the line has that shape, and whether its time is readable.
 */
export function parseUserLogLine(text: string): 'ok' | 'bad-timestamp' | null {
  const f = text.split('|');
  if (f.length < 11 || !isDigits(f[0]!.trim()) || !isDigits(f[8]!.trim())) return null;
  return parseRecordTime(f[10]!.trim()) === null ? 'bad-timestamp' : 'ok';
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const RECORD_TIME = /^[A-Z][a-z]{2}, (\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2})(?::(\d{1,6}))?$/;

/** Reads the connectionlog's `Mon, 7 Dec 2020 20:01:55:177` (UTC; the digits after the last colon are a fraction of a second). */
export function parseRecordTime(text: string): number | null {
  const m = RECORD_TIME.exec(text);
  if (!m) return null;
  const month = MONTHS[m[2]!];
  if (month === undefined) return null;
  if (!isValidDateTime(+m[3]!, month + 1, +m[1]!, +m[4]!, +m[5]!, +m[6]!)) return null;
  const ms = Date.UTC(+m[3]!, month, +m[1]!, +m[4]!, +m[5]!, +m[6]!);
  return m[7] ? ms + Number(`0.${m[7]}`) * 1000 : ms;
}

/** One connection of a cluster: the pid it ran as, while it was open. */
export interface RedshiftConnection {
  pid: number;
  start: number;
  /** Disconnect time; Infinity when the window holds no disconnect. */
  end: number;
  user: string | null;
  database: string | null;
  remoteHost: string | null;
  remotePort: string | null;
  sessionId: string | null;
  driverVersion: string | null;
  /** application_name at connect and after each `set application_name`, in time order. */
  apps: { at: number; name: string }[];
  /** Whether an `initiating session` record was seen (an `authenticated` one alone may precede it). */
  initiated: boolean;
}

/** What the user activity decoder learns from a connection, for one record. */
export interface ConnectionInfo {
  session: string;
  client: string | null;
  remoteHost: string | null;
  remotePort: string | null;
  applicationName: string | null;
  driverVersion: string | null;
}

/**
 * useractivitylog times are whole seconds, truncated, while connection times have
 * milliseconds: a statement logged at second S may come from a connection opened
 * up to a second later than S.
 */
const SECOND = 1000;

/**
 * The connections of the window's connectionlogs, by cluster and pid, for joining user
 * activity records to their connection. A pid is reused over time, so each pid keeps its
 * connections in start order and a record takes the one open at its time.
 */
export class ConnectionIndex {
  private readonly records = new Map<string, ConnectionLogRecord[]>();
  private readonly byPid = new Map<string, RedshiftConnection[]>();
  private built = false;
  /** How many connections the index holds, once built. */
  connections = 0;

  /** Adds a cluster's records (in file order; objects in listing order). */
  add(cluster: string, record: ConnectionLogRecord): void {
    const key = `${cluster}\u0000${record.pid}`;
    let list = this.records.get(key);
    if (!list) this.records.set(key, (list = []));
    list.push(record);
    this.built = false;
  }

  /** Turns the records of each pid into connections; called once after the last `add`. */
  build(): this {
    this.byPid.clear();
    this.connections = 0;
    for (const [key, list] of this.records) {
      // Stable: records of the same millisecond (authenticated, then initiating session) keep file order.
      list.sort((a, b) => a.at - b.at);
      const conns = connectionsOf(list);
      this.connections += conns.length;
      this.byPid.set(key, conns);
    }
    this.built = true;
    return this;
  }

  /**
   * The connection `pid` had at time `ts` (a useractivitylog time, whole seconds), or
   * null. Where a pid was reused within that second, the connection of the record's own
   * user and database wins.
   */
  find(cluster: string, pid: number, ts: number, user: string | null, database: string | null): RedshiftConnection | null {
    if (!this.built) this.build();
    const conns = this.byPid.get(`${cluster}\u0000${pid}`);
    if (!conns) return null;
    // The last connection that started no later than the record's second allows.
    let lo = 0;
    let hi = conns.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (conns[mid]!.start < ts + SECOND) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    let best: RedshiftConnection | null = null;
    for (let i = at; i >= 0 && i >= at - 1; i--) {
      const c = conns[i]!;
      if (c.end < ts) continue;
      if (best === null) best = c;
      else if (!matches(best, user, database) && matches(c, user, database)) best = c;
    }
    return best;
  }

  /** Session, client and address of the record's connection, or null when none is known. */
  info(cluster: string, pid: number, ts: number, user: string | null, database: string | null): ConnectionInfo | null {
    const c = this.find(cluster, pid, ts, user, database);
    if (!c) return null;
    const app = applicationAt(c, ts);
    return {
      session: c.sessionId ?? `${pid}@${new Date(c.start).toISOString()}`,
      client: app ?? c.remoteHost,
      remoteHost: c.remoteHost,
      remotePort: c.remotePort,
      applicationName: app,
      driverVersion: c.driverVersion,
    };
  }
}

function matches(c: RedshiftConnection, user: string | null, database: string | null): boolean {
  return (c.user === null || c.user === user) && (c.database === null || c.database === database);
}

function applicationAt(c: RedshiftConnection, ts: number): string | null {
  let name: string | null = null;
  for (const a of c.apps) {
    if (a.at >= ts + SECOND) break;
    name = a.name;
  }
  return name;
}

/** Sweeps one pid's records, in time order, into its connections. */
function connectionsOf(records: readonly ConnectionLogRecord[]): RedshiftConnection[] {
  const out: RedshiftConnection[] = [];
  let open: RedshiftConnection | null = null;
  const start = (r: ConnectionLogRecord, initiated: boolean): RedshiftConnection => {
    if (open) open.end = r.at; // its disconnect is missing: the pid was reused, so it ended by now
    const c: RedshiftConnection = {
      pid: r.pid,
      start: r.at,
      end: Infinity,
      user: r.user,
      database: r.database,
      remoteHost: r.remoteHost,
      remotePort: r.remotePort,
      sessionId: r.sessionId,
      driverVersion: r.driverVersion,
      apps: r.applicationName ? [{ at: r.at, name: r.applicationName }] : [],
      initiated,
    };
    out.push(c);
    return c;
  };
  for (const r of records) {
    switch (r.event) {
      case 'authenticated':
        open = start(r, false);
        break;
      case 'initiating session':
        if (open && !open.initiated) {
          open.initiated = true;
          fill(open, r);
        } else open = start(r, true);
        break;
      case 'set application_name':
        if (open && r.applicationName) open.apps.push({ at: r.at, name: r.applicationName });
        break;
      case 'disconnecting session':
        if (open) {
          open.end = r.at;
          fill(open, r);
        } else if (r.durationUs !== null) {
          // Opened before the window: its start follows from the duration.
          const c = start({ ...r, at: r.at - r.durationUs / 1000 }, true);
          c.end = r.at;
        }
        open = null;
        break;
      default:
        // authentication failure and the like open no connection.
        break;
    }
  }
  return out;
}

function fill(c: RedshiftConnection, r: ConnectionLogRecord): void {
  c.user ??= r.user;
  c.database ??= r.database;
  c.remoteHost ??= r.remoteHost;
  c.remotePort ??= r.remotePort;
  c.sessionId ??= r.sessionId;
  c.driverVersion ??= r.driverVersion;
  if (c.apps.length === 0 && r.applicationName) c.apps.push({ at: c.start, name: r.applicationName });
}

function field(f: readonly string[], i: number): string | null {
  const v = f[i]?.trim();
  return v ? v : null;
}

function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
