export { parquetDecoder as decoder } from './parquet-decoder.js';
