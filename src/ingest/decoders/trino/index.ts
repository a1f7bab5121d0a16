export { trinoDecoder as decoder } from './trino-decoder.js';
