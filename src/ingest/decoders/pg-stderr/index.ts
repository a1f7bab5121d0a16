export { pgStderrDecoder as decoder } from './pg-stderr-decoder.js';
