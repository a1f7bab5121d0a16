/** What feeding a line to a CsvRecordReader gave. */
export const CSV_DONE = 0;
/** The line ended inside a quoted field: the record goes on on the next line. */
export const CSV_MORE = 1;
/** Not CSV as PostgreSQL writes it; `error` says why. */
export const CSV_BAD = 2;
export type CsvResult = typeof CSV_DONE | typeof CSV_MORE | typeof CSV_BAD;

const QUOTE = 34;
const COMMA = 44;

/**
 * A CSV state machine fed line by line, as csvlog needs: a quoted field (`"` doubled
 * inside) may hold newlines, so one record can span several lines. The common record, on
 * one line with no doubled quotes, is read without copying: fields are offsets into the
 * line and only the ones asked for are cut out. A field that spans lines or holds doubled
 * quotes is built as a string. At most `maxFields` fields; more is an error.
 */
export class CsvRecordReader {
  /** Fields of the record read so far (all of them once a line returned CSV_DONE). */
  count = 0;
  /** Why the last line was CSV_BAD. */
  error = '';
  /** Length of the open record so far, to bound a runaway quoted field. */
  chars = 0;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly built: (string | null)[];
  /** Some field of the current record was built (so `begin` must clear them). */
  private anyBuilt = false;
  /** The last value `interned` returned per field. */
  private readonly recent: string[];
  private text = '';
  /** The quoted field that went on past the end of the last line, or null outside one. */
  private openField: string | null = null;

  constructor(private readonly maxFields: number) {
    this.starts = new Int32Array(maxFields);
    this.ends = new Int32Array(maxFields);
    this.built = new Array<string | null>(maxFields).fill(null);
    this.recent = new Array<string>(maxFields).fill('');
  }

  /** True between a line that returned CSV_MORE and the line that completes the record. */
  get open(): boolean {
    return this.openField !== null;
  }

  /** Starts a new record with its first line (dropping any open one). */
  begin(text: string): CsvResult {
    if (this.anyBuilt) {
      for (let i = 0; i < this.count; i++) this.built[i] = null;
      this.anyBuilt = false;
    }
    this.count = 0;
    this.openField = null;
    this.chars = text.length;
    this.text = text;
    return this.fields(text, 0);
  }

  /** Feeds the next line of an open record. */
  continue(text: string): CsvResult {
    this.text = text;
    this.chars += text.length + 1;
    const acc = this.openField!;
    this.openField = null;
    const after = this.quoted(text, 0, acc);
    if (after < 0) return after === -1 ? CSV_MORE : CSV_BAD;
    return this.afterQuoted(text, after);
  }

  /** Field `i` of the record (0-based); '' when absent. */
  field(i: number): string {
    if (i >= this.count) return '';
    const b = this.built[i];
    if (b !== null && b !== undefined) return b;
    return this.text.slice(this.starts[i], this.ends[i]);
  }

  /** Field `i`, or null when empty or absent. */
  opt(i: number): string | null {
    if (i >= this.count) return null;
    const b = this.built[i];
    if (b !== null && b !== undefined) return b === '' ? null : b;
    const s = this.starts[i]!;
    const e = this.ends[i]!;
    return s === e ? null : this.text.slice(s, e);
  }

  /**
   * Field `i`, or null when empty or absent, as the same string as last time when it did
   * not change: for the user, database, severity... columns that repeat from record to
   * record, so they cost a comparison instead of a new string.
   */
  interned(i: number): string | null {
    if (i >= this.count) return null;
    const b = this.built[i];
    if (b !== null && b !== undefined) return b === '' ? null : b;
    const s = this.starts[i]!;
    const e = this.ends[i]!;
    if (s === e) return null;
    const last = this.recent[i]!;
    if (last.length === e - s && this.text.startsWith(last, s)) return last;
    const v = this.text.slice(s, e);
    this.recent[i] = v;
    return v;
  }

  /**
   * Where field `i` starts in `line`, or -1 when it was built as a string (use `field`):
   * lets a caller read a field in place, without cutting it out.
   */
  startOf(i: number): number {
    return i < this.count && this.built[i] === null ? this.starts[i]! : -1;
  }

  /** Where field `i` ends in `line` (see startOf). */
  endOf(i: number): number {
    return this.ends[i]!;
  }

  /** The line the fields not built as strings point into. */
  get line(): string {
    return this.text;
  }

  private fields(text: string, pos: number): CsvResult {
    const len = text.length;
    // The next quote at or after pos (len when none): an unquoted field must end before it.
    let quote = -1;
    while (true) {
      if (this.count === this.maxFields) {
        this.error = `more than ${this.maxFields} fields`;
        return CSV_BAD;
      }
      if (pos < len && text.charCodeAt(pos) === QUOTE) {
        const after = this.quoted(text, pos + 1, null);
        if (after < 0) return after === -1 ? CSV_MORE : CSV_BAD;
        const r = this.afterQuotedStep(text, after);
        if (r !== -1) return r;
        pos = after + 1;
        continue;
      }
      let comma = text.indexOf(',', pos);
      if (comma < 0) comma = len;
      if (comma > pos && quote < pos) {
        quote = text.indexOf('"', pos);
        if (quote < 0) quote = len;
      }
      if (comma > pos && quote < comma) {
        this.error = `quote inside unquoted field ${this.count + 1}`;
        return CSV_BAD;
      }
      const n = this.count++;
      this.starts[n] = pos;
      this.ends[n] = comma;
      if (comma === len) return CSV_DONE;
      pos = comma + 1;
    }
  }

  /** After a closing quote at `after - 1`: the record ends, or a comma leads to the next field. */
  private afterQuoted(text: string, after: number): CsvResult {
    const r = this.afterQuotedStep(text, after);
    return r === -1 ? this.fields(text, after + 1) : r;
  }

  private afterQuotedStep(text: string, after: number): CsvResult | -1 {
    if (after === text.length) return CSV_DONE;
    if (text.charCodeAt(after) !== COMMA) {
      this.error = `unexpected character after the closing quote of field ${this.count}`;
      return CSV_BAD;
    }
    return -1;
  }

  /**
   * Reads a quoted field's content from `from` (just after the opening quote, or the start
   * of a continuation line with `acc` holding what came before). Stores the field and
   * returns the position after its closing quote; -1 when the line ends inside it (kept
   * for the next line); -2 on error.
   */
  private quoted(text: string, from: number, acc: string | null): number {
    const start = from;
    while (true) {
      const q = text.indexOf('"', from);
      if (q < 0) {
        this.openField = (acc ?? '') + text.slice(from) + '\n';
        this.anyBuilt = true;
        // The line changes under the fields read so far: cut them out now.
        for (let i = 0; i < this.count; i++) {
          if (this.built[i] === null) this.built[i] = text.slice(this.starts[i], this.ends[i]);
        }
        return -1;
      }
      if (text.charCodeAt(q + 1) === QUOTE) {
        acc = (acc ?? '') + text.slice(from, q + 1);
        from = q + 2;
        continue;
      }
      const n = this.count++;
      if (acc === null) {
        this.starts[n] = start;
        this.ends[n] = q;
      } else {
        this.built[n] = acc + text.slice(from, q);
        this.anyBuilt = true;
      }
      return q + 1;
    }
  }
}
