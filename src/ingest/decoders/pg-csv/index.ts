export { pgCsvDecoder as decoder } from './pg-csv-decoder.js';
