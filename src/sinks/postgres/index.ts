export { isTableUrl, openTableSink, readTable, type ReadTableOptions, type TableSinkOptions } from './postgres-table-sink.js';
