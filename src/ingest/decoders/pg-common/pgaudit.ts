/** One pgAudit `AUDIT:` line, the fields auditreplay keeps. */
export interface PgAuditLine {
  /** `SESSION` or `OBJECT`. */
  auditType: string;
  /** Counts statements within a session: every line of one statement shares it. */
  statementId: number;
  substatementId: number;
  /** READ, WRITE, FUNCTION, ROLE, DDL, MISC or MISC_SET. */
  className: string;
  command: string;
  objectType: string;
  objectName: string;
  /** The statement text; empty when pgaudit.log_statement_once left it out. */
  statement: string;
}

const PREFIX = 'AUDIT: ';

/** True when a record's message is a pgAudit line. */
export function isPgAuditMessage(message: string): boolean {
  return message.startsWith(PREFIX);
}

// The position after the field last read: module state, so reading a field allocates only its value.
let cursor = 0;

/** Reads one CSV field (pgaudit quotes a field holding `,`, `"`, CR or LF and doubles its quotes). */
function field(text: string, pos: number): string | null {
  if (pos > text.length) return null;
  if (text.charCodeAt(pos) !== 34) {
    let end = text.indexOf(',', pos);
    if (end < 0) end = text.length;
    cursor = end + 1;
    return text.slice(pos, end);
  }
  let value = '';
  let from = pos + 1;
  while (true) {
    const q = text.indexOf('"', from);
    if (q < 0) return null;
    if (text.charCodeAt(q + 1) === 34) {
      value += text.slice(from, q + 1);
      from = q + 2;
      continue;
    }
    value += text.slice(from, q);
    const next = q + 1;
    if (next < text.length && text.charCodeAt(next) !== 44) return null;
    cursor = next + 1;
    return value;
  }
}

function id(text: string | null): number {
  if (text === null || text.length === 0 || text.length > 15) return -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
  }
  return Number(text);
}

/**
 * Reads `AUDIT: SESSION|OBJECT,statement_id,substatement_id,CLASS,COMMAND,OBJECT_TYPE,
 * OBJECT_NAME,STATEMENT,PARAMETER[,ROWS]`, or returns null when the message is not one.
 */
export function parsePgAudit(message: string): PgAuditLine | null {
  if (!message.startsWith(PREFIX)) return null;
  const auditType = field(message, PREFIX.length);
  if (auditType !== 'SESSION' && auditType !== 'OBJECT') return null;
  const statementId = id(field(message, cursor));
  if (statementId < 0) return null;
  const substatementId = id(field(message, cursor));
  if (substatementId < 0) return null;
  const className = field(message, cursor);
  const command = className === null ? null : field(message, cursor);
  const objectType = command === null ? null : field(message, cursor);
  const objectName = objectType === null ? null : field(message, cursor);
  const statement = objectName === null ? null : field(message, cursor);
  if (className === null || className === '' || command === null || objectType === null || objectName === null || statement === null) return null;
  return {
    auditType,
    statementId,
    substatementId,
    className,
    command,
    objectType,
    objectName,
    statement: statement === '<previously logged>' ? '' : statement,
  };
}
