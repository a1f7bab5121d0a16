import pg from 'pg';
import type { ExecuteResult, ResultField } from '../../target.js';

/** What node-postgres hands a submittable: only the calls this one makes. */
interface Connection {
  query(text: string): void;
  sendCopyFail(message: string): void;
  once(event: 'readyForQuery' | 'end', listener: () => void): void;
  removeListener(event: 'readyForQuery' | 'end', listener: () => void): void;
}

interface RowDescription {
  fields: { name: string; dataTypeID: number }[];
}

/**
 * One logged statement sent as its client sent it: a simple-protocol Query (one round
 * trip, any statement kind, as `pgbench -S` and most drivers do), with each DataRow handed
 * on in the server's text form and then dropped. node-postgres parses the socket's bytes
 * message by message and calls us synchronously, so rows never accumulate: a result of
 * any size needs `batchSize` rows of memory, and a slow consumer stalls the socket (TCP
 * backpressure) instead of growing a buffer. A cursor would cost two more round trips per
 * statement for no memory gain here.
 */
export class StreamedStatement {
  callback: ((err: Error | null) => void) | null = null;
  private fields: ResultField[] = [];
  private batch: (string | null)[][] = [];
  private command: string | null = null;
  private rowCount: number | null = null;
  private consumerError: unknown = null;
  private settled = false;
  readonly done: Promise<ExecuteResult>;
  private resolve!: (r: ExecuteResult) => void;
  private reject!: (e: unknown) => void;

  /**
   * @param onRows receives the rows in batches of `batchSize` (default 1,000)
   */
  constructor(
    private readonly text: string,
    private readonly onRows: ((rows: (string | null)[][], fields: readonly ResultField[]) => void) | undefined,
    private readonly batchSize = 1000,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  submit(connection: Connection): Error | null {
    connection.query(this.text);
    return null;
  }

  handleRowDescription(msg: RowDescription): void {
    this.flush();
    this.fields = msg.fields.map((f) => ({ name: f.name, typeId: f.dataTypeID }));
  }

  handleDataRow(msg: { fields: (string | null)[] }): void {
    if (!this.onRows || this.consumerError !== null) return;
    this.batch.push(msg.fields);
    if (this.batch.length >= this.batchSize) this.flush();
  }

  handleCommandComplete(msg: { text: string }): void {
    this.flush();
    // "SELECT 5", "INSERT 0 1", "CREATE TABLE": the last number is the row count when there is one.
    const words = msg.text.split(' ');
    this.command = words[0] ?? null;
    const last = Number(words[words.length - 1]);
    this.rowCount = words.length > 1 && Number.isInteger(last) ? last : null;
  }

  handleEmptyQuery(): void {
    this.command = null;
  }

  handleCopyInResponse(connection: Connection): void {
    // The log holds the COPY statement but not the data that followed it.
    connection.sendCopyFail('auditreplay does not replay COPY FROM STDIN: the audit log holds no data for it');
  }

  handleCopyData(): void {}

  handlePortalSuspended(): void {}

  handleError(err: Error, connection: Connection): void {
    // node-postgres forgets the statement at a server error, but the transaction status the
    // caller reads next comes with the ReadyForQuery that follows: settle after it.
    if (err instanceof pg.DatabaseError) {
      const settle = (): void => {
        connection.removeListener('readyForQuery', settle);
        connection.removeListener('end', settle);
        this.finish(err);
      };
      connection.once('readyForQuery', settle);
      connection.once('end', settle);
      return;
    }
    this.finish(err);
  }

  handleReadyForQuery(): void {
    this.finish(null);
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const rows = this.batch;
    this.batch = [];
    try {
      this.onRows!(rows, this.fields);
    } catch (err) {
      this.consumerError ??= err;
    }
  }

  private finish(err: Error | null): void {
    if (this.settled) return;
    this.settled = true;
    if (err) this.reject(err);
    else if (this.consumerError !== null) this.reject(this.consumerError);
    else this.resolve({ command: this.command, rowCount: this.rowCount, fields: this.fields });
    this.callback?.(err);
  }
}
