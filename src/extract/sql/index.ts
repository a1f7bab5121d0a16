export { analyzeStatement, type StatementAnalysis } from './analyze-statement.js';
export { classify, type Classification } from './classify.js';
export { fingerprint, fingerprintId } from './fingerprint.js';
export { splitStatements } from './split-statements.js';
