export { pgJsonDecoder as decoder } from './pg-json-decoder.js';
