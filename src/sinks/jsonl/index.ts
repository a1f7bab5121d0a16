export { jsonlFormat, toJsonLine } from './jsonl-format.js';
