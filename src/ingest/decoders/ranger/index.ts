export { rangerDecoder as decoder } from './ranger-decoder.js';
