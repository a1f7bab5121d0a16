import { isUtf8 } from 'node:buffer';

/** Consecutive lines of an object; `null` marks a line that was not valid UTF-8 (already reported). */
export interface LineBatch {
  /** 1-based number of `lines[0]`. */
  first: number;
  lines: (string | null)[];
}

export interface BadLine {
  line: number;
  reason: 'invalid-utf8' | 'malformed-line';
  message: string;
  raw: Buffer;
}

const NL = 0x0a;
const CR = 13;

/**
 * Splits a byte stream into lines without ever holding more than one partial line
 * plus one chunk. UTF-8 is checked per block of complete lines (one native call on
 * the common, valid path) and per line only when a block fails, so a bad byte
 * rejects its own line and nothing else.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private discarding = false;
  private lineNo = 0;

  /** @param maxLineBytes longest line kept (default 64 MiB); a longer one is reported, not buffered. */
  constructor(
    private readonly onBadLine: (bad: BadLine) => void,
    private readonly maxLineBytes = 64 * 1024 * 1024,
  ) {}

  /** Lines completed so far. */
  get linesSeen(): number {
    return this.lineNo;
  }

  /** The bytes of the line not yet ended by a newline. */
  get partial(): Buffer {
    return Buffer.concat(this.pending);
  }

  push(chunk: Buffer): LineBatch | null {
    const last = chunk.lastIndexOf(NL);
    if (last < 0) {
      this.hold(chunk);
      return null;
    }
    let block: Buffer;
    if (this.discarding) {
      // The overlong line ends in this chunk: report it and keep the rest.
      const end = chunk.indexOf(NL);
      this.reportOverlong();
      block = chunk.subarray(end + 1, last);
      if (end === last) {
        this.keepTail(chunk, last);
        return null;
      }
    } else {
      block = this.pending.length ? Buffer.concat([...this.pending, chunk.subarray(0, last)]) : chunk.subarray(0, last);
    }
    this.pending = [];
    this.pendingBytes = 0;
    this.keepTail(chunk, last);
    return this.decode(block);
  }

  /** Ends the stream: the last line may lack its newline. */
  end(): LineBatch | null {
    if (this.discarding) {
      this.reportOverlong();
      return null;
    }
    if (this.pendingBytes === 0) return null;
    const block = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    return this.decode(block);
  }

  /** Forgets the partial line, e.g. after the stream failed and the caller reported it. */
  dropPartial(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.discarding = false;
  }

  private keepTail(chunk: Buffer, last: number): void {
    if (last + 1 < chunk.length) this.hold(chunk.subarray(last + 1));
  }

  private hold(bytes: Buffer): void {
    if (this.discarding) return;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes > this.maxLineBytes) {
      this.discarding = true;
      this.overlongHead = Buffer.concat(this.pending).subarray(0, 1024);
      this.pending = [];
      this.pendingBytes = 0;
    }
  }

  private overlongHead: Buffer = Buffer.alloc(0);

  private reportOverlong(): void {
    this.discarding = false;
    this.onBadLine({
      line: ++this.lineNo,
      reason: 'malformed-line',
      message: `line longer than ${this.maxLineBytes} bytes; skipped`,
      raw: this.overlongHead,
    });
  }

  private decode(block: Buffer): LineBatch {
    const first = this.lineNo + 1;
    if (isUtf8(block)) {
      const lines: (string | null)[] = block.toString('utf8').split('\n');
      for (let i = 0; i < lines.length; i++) {
        const l = lines[i]!;
        if (l.charCodeAt(l.length - 1) === CR) lines[i] = l.slice(0, -1);
      }
      if (first === 1 && lines[0]!.charCodeAt(0) === 0xfeff) lines[0] = lines[0]!.slice(1);
      this.lineNo += lines.length;
      return { first, lines };
    }
    const lines: (string | null)[] = [];
    let start = 0;
    for (;;) {
      const nl = block.indexOf(NL, start);
      const bytes = block.subarray(start, nl < 0 ? block.length : nl);
      this.lineNo++;
      if (isUtf8(bytes)) {
        const text = bytes.toString('utf8');
        lines.push(text.charCodeAt(text.length - 1) === CR ? text.slice(0, -1) : text);
      } else {
        lines.push(null);
        this.onBadLine({ line: this.lineNo, reason: 'invalid-utf8', message: 'line is not valid UTF-8', raw: bytes });
      }
      if (nl < 0) break;
      start = nl + 1;
    }
    return { first, lines };
  }
}
